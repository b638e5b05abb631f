// core/file.h: writing a file so that a crash never leaves half of it.
//
//   ECOMAP_RETURN_IF_ERROR(WriteFileAtomic("model.ecomap", bytes));
//
// The content goes to a temporary file beside `path` (`path`.tmp.<pid>), which then replaces
// `path` by rename: readers see the old file or the new one, never a partial one. On failure
// the temporary is removed and `path` is left as it was; Unavailable names the file and the
// likely fix (missing or read-only folder, full disk).
//
// Thread-safety: safe for distinct paths; concurrent writers of one path race (last rename wins).
#pragma once

#include <string>

#include "core/status.h"

namespace ecomap {

Status WriteFileAtomic(const std::string& path, const std::string& content);

}  // namespace ecomap
