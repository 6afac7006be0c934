#!/usr/bin/env bash
# matplotlib (Debian's python3-matplotlib, for /usr/bin/python3), for the soak's plot of RSS and
# p99 over time (bench/soak.sh, bench/soak_plot.py).
set -euo pipefail
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null && exit 0
source "$(dirname "$0")/../lib/apt-install.sh"
apt_install python3-matplotlib
