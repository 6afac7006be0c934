# Sourced by scripts/setup.d/*: apt_install PKG… installs Debian packages as
# root (or through sudo), after one `apt-get update`; fails, naming them,
# when neither is available.
apt_install() {
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "    ERROR: $* missing; install them with apt-get as root" >&2
      return 1
    fi
  fi
  echo "    installing $* from Debian"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
