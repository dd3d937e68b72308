#!/usr/bin/env bash
# Install hiprot on a Raspberry Pi as the systemd service `hiprot` (see firmware/README.md).
#
#   sudo firmware/install.sh              install or update from this checkout
#   sudo firmware/install.sh --root DIR   the same into a scratch root (tests, image staging)
#
# Idempotent: a second run with the same checkout changes nothing. It never overwrites
# /etc/hiprot/rig.toml or the MQTT password file once they exist.
# Environment: HIPROT_PIP_ARGS  extra arguments for pip (e.g. "--no-deps")
#              HIPROT_ROOT      same as --root
set -euo pipefail

usage() { echo "usage: $0 [--root DIR]" >&2; exit 2; }
say() { echo "install.sh: $*"; }
die() { echo "install.sh: error: $*" >&2; exit 2; }

ROOT=${HIPROT_ROOT:-/}
while [ "$#" -gt 0 ]; do
  case "$1" in
    --root) [ "$#" -ge 2 ] || usage; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#--root=}; shift ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) usage ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
[ -d "$ROOT" ] || die "$ROOT: no such directory"
ROOT=$(cd "$ROOT" && pwd)
for file in passwd group shadow gshadow; do
  [ -f "$ROOT/etc/$file" ] || die "$ROOT/etc/$file is missing"
done
prefix=${ROOT%/}  # "" for the real root, so "$prefix/etc" is /etc

REPO=$(cd "$(dirname "$0")/.." && pwd)
USER_NAME=hiprot
VENV=/opt/hiprot/venv
DIGEST=/opt/hiprot/source.sha256  # what the venv was installed from
CONFIG_DIR=/etc/hiprot
STATE_DIR=/var/lib/hiprot
UNIT=/etc/systemd/system/hiprot.service
MODULES=/etc/modules-load.d/hiprot.conf  # loads i2c-dev at boot: the /dev/i2c-N device files
read -r -a pip_args <<< "${HIPROT_PIP_ARGS:-}"

# Name lookups read the target root's files, so they also work in a scratch root.
has_entry() { grep -q "^$2:" "$prefix/etc/$1"; }
field_of() { awk -F: -v name="$2" -v n="$3" '$1 == name { print $n }' "$prefix/etc/$1"; }
in_group() { field_of group "$1" 4 | tr ',' '\n' | grep -qx "$2"; }

ensure_accounts() {
  local shell=/usr/sbin/nologin
  has_entry group i2c || { groupadd --root "$ROOT" --system i2c; say "created group i2c"; }
  has_entry group "$USER_NAME" || groupadd --root "$ROOT" --system "$USER_NAME"
  if ! has_entry passwd "$USER_NAME"; then
    useradd --root "$ROOT" --system --gid "$USER_NAME" --groups i2c --home-dir "$STATE_DIR" \
      --no-create-home --shell "$shell" --comment "hiprot logger" "$USER_NAME"
    say "created system user $USER_NAME"
  elif ! in_group i2c "$USER_NAME"; then
    usermod --root "$ROOT" --append --groups i2c "$USER_NAME"
    say "added $USER_NAME to group i2c"
  fi
}

# install_if_changed MODE OWNER:GROUP SOURCE TARGET: copy only when the content differs.
install_if_changed() {
  local mode=$1 owner=$2 source=$3 target=$prefix$4
  if ! cmp -s "$source" "$target"; then
    install -D -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$source" "$target"
    say "installed $4"
    return 0
  fi
  return 1
}

# source_digest DIR: one hash over the file names and contents of a source tree.
source_digest() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

check_python() {
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "hiprot needs Python 3.11 or later (Raspberry Pi OS Bookworm or later)"
  python3 -c 'import ensurepip, venv' 2>/dev/null \
    || die "python3 cannot make virtual environments: apt install python3-venv"
}

install_package() {
  local venv=$prefix$VENV stage digest
  stage=$(mktemp -d)
  # shellcheck disable=SC2064  # expand now: the stage is local to this function
  trap "rm -rf '$stage'" EXIT
  tar -C "$REPO" --exclude=__pycache__ --exclude='*.egg-info' -cf - pyproject.toml README.md src config \
    | tar -C "$stage" -xf -
  digest=$(source_digest "$stage")
  if [ -x "$venv/bin/hiprot" ] && [ "$(cat "$prefix$DIGEST" 2>/dev/null)" = "$digest" ]; then
    say "hiprot in $VENV is up to date"
    return
  fi
  [ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; say "created $VENV"; }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_args[@]}" "$stage"
  echo "$digest" > "$prefix$DIGEST"
  say "installed hiprot from $REPO into $VENV"
}

ensure_directories() {
  local uid gid
  uid=$(field_of passwd "$USER_NAME" 3)
  gid=$(field_of group "$USER_NAME" 3)
  install -d -m 0755 -o root -g root "$prefix$CONFIG_DIR"
  install -d -m 0750 -o "$uid" -g "$gid" "$prefix$STATE_DIR" "$prefix$STATE_DIR/sessions"
  if [ ! -e "$prefix$CONFIG_DIR/rig.toml" ]; then
    install -m 0644 "$REPO/config/two-sensors.toml" "$prefix$CONFIG_DIR/rig.toml"
    say "installed $CONFIG_DIR/rig.toml from config/two-sensors.toml: edit it for your rig"
  fi
  [ -e "$prefix$CONFIG_DIR/sim.toml" ] || install -m 0644 "$REPO/config/sim.toml" "$prefix$CONFIG_DIR/sim.toml"
  if [ ! -e "$prefix$CONFIG_DIR/mqtt-password" ]; then
    install -m 0600 -o "$uid" -g "$gid" /dev/null "$prefix$CONFIG_DIR/mqtt-password"
    say "created an empty $CONFIG_DIR/mqtt-password (mode 600) for the broker password"
  fi
}

install_unit() {
  local changed=no modules
  modules=$(mktemp)
  echo i2c-dev > "$modules"
  install_if_changed 0644 root:root "$modules" "$MODULES" || true
  rm -f "$modules"
  install_if_changed 0644 root:root "$REPO/firmware/hiprot.service" "$UNIT" && changed=yes
  if [ "$ROOT" = / ] && [ -d /run/systemd/system ]; then
    [ "$changed" = no ] || systemctl daemon-reload
    systemctl --quiet is-enabled hiprot.service || systemctl --quiet enable hiprot.service
    say "service enabled; start it with: systemctl restart hiprot"
  elif command -v systemctl >/dev/null 2>&1; then
    systemctl --root="$ROOT" --quiet enable hiprot.service 2>/dev/null \
      || die "could not enable hiprot.service in $ROOT"
  else
    say "systemctl not found: enable hiprot.service on the target system"
  fi
}

check_python
ensure_accounts
install_package
ensure_directories
install_unit
say "done"
