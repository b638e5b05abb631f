#!/usr/bin/env bash
# Installs Ecomap's build and run dependencies from Debian's packages, only those missing.
# Nothing is downloaded from anywhere but the configured Debian mirrors.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libtorch-dev libopenblas0-openmp      # real DNNs (libtorch 1.13) with a fast BLAS
  libsvm-dev libeigen3-dev             # LA-MCTS partitioning and numerics
  nlohmann-json3-dev libtomlplusplus-dev libcli11-dev
  libspdlog-dev libfmt-dev
  libcpp-httplib-dev libcurl4-openssl-dev libssl-dev
  libsqlite3-dev
  protobuf-compiler protobuf-compiler-grpc libgrpc++-dev libprotobuf-dev  # gRPC transport
  python3-grpcio python3-grpc-tools    # the gRPC transport's third-party-client test
  libgtest-dev libgmock-dev libbenchmark-dev
  curl wrk hey                         # third-party REST clients of scripts/rest-clients.sh
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
