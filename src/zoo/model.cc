#include "zoo/model.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "zoo/catalog.h"

namespace ecomap::zoo {
namespace {

constexpr std::pair<BlockKind, const char*> kKindNames[] = {
    {BlockKind::kConv, "conv"},           {BlockKind::kDepthwise, "depthwise"},
    {BlockKind::kLinear, "linear"},       {BlockKind::kAttention, "attention"},
    {BlockKind::kPool, "pool"},           {BlockKind::kEmbedding, "embedding"},
    {BlockKind::kOther, "other"},
};

struct Catalogue {
  std::vector<ModelInfo> models;
  Status status;
};

const Catalogue& GetCatalogue() {
  static const Catalogue* catalogue = [] {
    auto* c = new Catalogue;
    StatusOr<std::vector<ModelInfo>> parsed = ParseCatalog(EmbeddedCatalogJson());
    if (!parsed.ok()) {
      c->status = parsed.status().WithContext("embedded data/zoo/catalog.json");
      return c;
    }
    c->status = CheckCatalogMatchesSpecs(*parsed);
    if (c->status.ok()) c->models = std::move(parsed).value();
    return c;
  }();
  return *catalogue;
}

// The models registered at run time (RegisterModel). A deque: references stay valid forever.
struct Registered {
  std::shared_mutex mu;
  std::deque<ModelInfo> models;
};

Registered& GetRegistered() {
  static Registered* r = new Registered;
  return *r;
}

const ModelInfo* FindRegistered(const std::string& name) {
  Registered& r = GetRegistered();
  std::shared_lock<std::shared_mutex> l(r.mu);
  for (const ModelInfo& m : r.models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace

const char* BlockKindName(BlockKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "other";
}

StatusOr<BlockKind> ParseBlockKind(const std::string& name) {
  for (const auto& [k, n] : kKindNames) {
    if (name == n) return k;
  }
  return InvalidArgument("unknown block kind '" + name +
                         "'; known kinds: conv, depthwise, linear, attention, pool, embedding, "
                         "other");
}

double ModelInfo::TotalFlops() const {
  double total = 0;
  for (const BlockDescriptor& b : blocks) total += b.flops;
  return total;
}

int64_t ModelInfo::TotalParams() const {
  int64_t total = 0;
  for (const BlockDescriptor& b : blocks) total += b.params;
  return total;
}

double ModelInfo::TotalElementwiseOps() const {
  double total = 0;
  for (const BlockDescriptor& b : blocks) total += b.elementwise_ops;
  return total;
}

const std::vector<ModelInfo>& Models() { return GetCatalogue().models; }

Status CatalogStatus() { return GetCatalogue().status; }

const ModelInfo* FindModel(const std::string& name) {
  for (const ModelInfo& m : Models()) {
    if (m.name == name) return &m;
  }
  return FindRegistered(name);
}

bool IsCatalogueFamily(const std::string& family) {
  for (const ModelInfo& m : ModelSpecs()) {
    if (m.family == family) return true;
  }
  return false;
}

StatusOr<const ModelInfo*> RegisterModel(ModelInfo info) {
  if (info.name.empty()) return InvalidArgument("a registered model needs a name");
  if (info.family.empty()) return InvalidArgument("model '" + info.name + "' needs a family");
  if (info.blocks.empty()) return InvalidArgument("model '" + info.name + "' has no blocks");
  if (FindModelSpec(info.name) != nullptr) {
    return FailedPrecondition("model name '" + info.name + "' is a built-in zoo model; give your model another name");
  }
  if (IsCatalogueFamily(info.family)) {
    return InvalidArgument("model '" + info.name + "': family '" + info.family +
                           "' is a built-in zoo family; give your own models a family of their own (e.g. '" +
                           info.family + "-custom')");
  }
  Registered& r = GetRegistered();
  std::unique_lock<std::shared_mutex> l(r.mu);
  for (const ModelInfo& m : r.models) {
    if (m.name == info.name) {
      return FailedPrecondition("model name '" + info.name + "' is already registered; choose another name");
    }
  }
  r.models.push_back(std::move(info));
  return &r.models.back();
}

std::vector<const ModelInfo*> RegisteredModels() {
  Registered& r = GetRegistered();
  std::shared_lock<std::shared_mutex> l(r.mu);
  std::vector<const ModelInfo*> out;
  for (const ModelInfo& m : r.models) out.push_back(&m);
  return out;
}

std::string KnownModelNames() {
  std::string out;
  for (const ModelInfo& m : ModelSpecs()) {
    if (!out.empty()) out += ", ";
    out += m.name;
  }
  for (const ModelInfo* m : RegisteredModels()) out += ", " + m->name;
  return out;
}

StatusOr<const ModelInfo*> LookupModel(const std::string& name) {
  if (const ModelInfo* m = FindModel(name)) return m;
  if (!CatalogStatus().ok()) return CatalogStatus();
  return NotFound("unknown model '" + name + "'; known models: " + KnownModelNames());
}

std::vector<const ModelInfo*> Family(const std::string& family) {
  std::vector<const ModelInfo*> out;
  for (const ModelInfo& m : Models()) {
    if (m.family == family) out.push_back(&m);
  }
  if (!out.empty()) return out;  // a catalogue family has no registered members
  for (const ModelInfo* m : RegisteredModels()) {
    if (m->family == family) out.push_back(m);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ModelInfo* a, const ModelInfo* b) { return a->accuracy < b->accuracy; });
  return out;
}

std::vector<std::string> Families() {
  std::vector<std::string> out;
  for (const ModelInfo& m : ModelSpecs()) {
    if (std::find(out.begin(), out.end(), m.family) == out.end()) out.push_back(m.family);
  }
  for (const ModelInfo* m : RegisteredModels()) {
    if (std::find(out.begin(), out.end(), m->family) == out.end()) out.push_back(m->family);
  }
  return out;
}

}  // namespace ecomap::zoo
