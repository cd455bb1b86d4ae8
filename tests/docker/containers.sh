# Sourced by the container tests: `ctr` runs the container engine, whichever this machine has,
# and `compose` its compose tool.
# Docker when its daemon answers; otherwise Podman (installed from Debian's packages if missing),
# which needs no daemon.
if docker info >/dev/null 2>&1; then
  ctr() { docker "$@"; }
  compose() { docker compose "$@"; }
  engine=docker
else
  if [ "$(id -u)" != 0 ]; then
    echo "docker test: skipped: no Docker daemon answers, and Podman here needs root (it runs rootful)"
    exit 0
  fi
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null ||
     ! command -v podman-compose >/dev/null || ! command -v iptables >/dev/null; then
    echo "docker test: installing podman, podman-compose, runc and debootstrap"
    apt-get update -qq
    # With Podman's recommended packages, and netavark and aardvark-dns named: the network stack
    # whose DNS lets compose's services find each other by name (Debian's podman may otherwise
    # come with the CNI plugins alone, which have no name service). netavark runs iptables, which
    # its package does not depend on.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman netavark aardvark-dns iptables podman-compose runc debootstrap >/dev/null
  fi
  # The project's CI machines are VMs whose cgroup v2 hierarchy is hybrid (crun refuses it) and
  # whose root lacks CAP_SYS_RESOURCE (a container may not get higher resource limits than the
  # host's; 16384 processes is also under what runc's init may raise to there): runc with
  # cgroupfs, limits at or below the host's. Settings of our own, not the machine's.
  nofile="$(ulimit -Hn)"; { [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ]; } && nofile=65536
  nproc="$(ulimit -Hu)"; { [ "$nproc" = unlimited ] || [ "$nproc" -gt 16384 ]; } && nproc=16384
  export CONTAINERS_CONF
  CONTAINERS_CONF="$(mktemp --suffix=.adagio-containers.conf)"
  cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
  ctr() { podman "$@"; }
  compose() { podman-compose "$@"; }
  engine=podman
fi
