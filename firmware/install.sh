#!/usr/bin/env bash
# Install hiprot on a Raspberry Pi as an appliance (see firmware/README.md, docs/appliance.md):
# the recorder (service `hiprot`), the dashboard (service `hiprot-dashboard`), Mosquitto with
# passwords and the ACL, and the mDNS announcement (avahi).
#
#   sudo firmware/install.sh              install or update from this checkout
#   sudo firmware/install.sh --root DIR   the same into a scratch root (tests, image staging)
#
# Idempotent: a second run with the same checkout changes nothing. It never overwrites
# /etc/hiprot/rig.toml, a password file or a broker user once they exist.
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
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
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
DASHBOARD_UNIT=/etc/systemd/system/hiprot-dashboard.service
BROKER_CONF=/etc/mosquitto/conf.d/hiprot.conf  # Debian's mosquitto.conf includes conf.d/
BROKER_PASSWD=/etc/mosquitto/hiprot.passwd
BROKER_ACL=/etc/mosquitto/hiprot.acl
WEARER_PASSWORD=$CONFIG_DIR/wearer-password  # the wearer's broker login (dashboard, commands)
AVAHI_SERVICE=/etc/avahi/services/hiprot.service
PACKAGES=(mosquitto avahi-daemon)
package_changed=no
broker_changed=no
MODULES=/etc/modules-load.d/hiprot.conf  # loads i2c-dev at boot: the /dev/i2c-N device files
read -r -a pip_args <<< "${HIPROT_PIP_ARGS:-}"

# Name lookups read the target root's files, so they also work in a scratch root.
has_entry() { grep -q "^$2:" "$prefix/etc/$1"; }
field_of() { awk -F: -v name="$2" -v n="$3" '$1 == name { print $n }' "$prefix/etc/$1"; }
in_group() { field_of group "$1" 4 | tr ',' '\n' | grep -qx "$2"; }

# install_packages: Mosquitto and avahi from apt, on the real root only (an image being staged
# in a scratch root gets them from its own package list).
install_packages() {
  local missing=() pkg
  if [ "$ROOT" != / ]; then
    say "not installing packages into $ROOT: the image needs ${PACKAGES[*]}"
    return
  fi
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  command -v apt-get >/dev/null 2>&1 || die "install ${missing[*]} first (no apt-get here)"
  apt-get update -qq || die "apt-get update failed (no network?): install ${missing[*]} by hand"
  DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get could not install ${missing[*]}"
  say "installed ${missing[*]}"
}

ensure_accounts() {
  local shell=/usr/sbin/nologin
  # Debian's mosquitto package makes this account; a scratch root gets it here.
  has_entry group mosquitto || groupadd --root "$ROOT" --system mosquitto
  if ! has_entry passwd mosquitto; then
    useradd --root "$ROOT" --system --gid mosquitto --home-dir /var/lib/mosquitto \
      --no-create-home --shell "$shell" --comment "Mosquitto MQTT broker" mosquitto
    say "created system user mosquitto"
  fi
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
  package_changed=yes
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
}

# password_hash NAME < PASSWORD: NAME's line of a Mosquitto password file, as mosquitto_passwd
# writes it (PBKDF2-SHA512, 101 rounds, 12-byte salt); the password never goes on a command line.
password_hash() {
  # shellcheck disable=SC2016  # Python, not shell: the $ signs are the hash format's
  python3 -c '
import base64, hashlib, os, sys
salt = os.urandom(12)
digest = hashlib.pbkdf2_hmac("sha512", sys.stdin.read().strip().encode(), salt, 101, 64)
print(f"{sys.argv[1]}:$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}")
' "$1"
}

# ensure_broker_user NAME FILE UID:GID: NAME in the broker's password file, with the password
# in FILE (mode 600, owned by UID:GID). A user already there is left alone; an empty or
# missing FILE gets a new random password (144 bits).
ensure_broker_user() {
  local name=$1 secret=$prefix$2 owner=$3 passwd=$prefix$BROKER_PASSWD
  if [ -f "$passwd" ] && grep -q "^$name:" "$passwd"; then
    return
  fi
  if [ ! -s "$secret" ]; then
    install -m 0600 -o "${owner%:*}" -g "${owner#*:}" /dev/null "$secret"
    head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$secret"
    say "wrote a new password for broker user $name to $2 (mode 600)"
  fi
  password_hash "$name" < "$secret" >> "$passwd"
  say "added broker user $name to $BROKER_PASSWD"
  broker_changed=yes
}

# ensure_broker: Mosquitto's configuration, password file (users hiprot and wearer) and ACL;
# the mDNS announcement of the dashboard and broker.
ensure_broker() {
  local hiprot_ids mosquitto_ids
  hiprot_ids=$(field_of passwd "$USER_NAME" 3):$(field_of group "$USER_NAME" 3)
  mosquitto_ids=$(field_of passwd mosquitto 3):$(field_of group mosquitto 3)
  install_if_changed 0644 0:0 "$REPO/config/mosquitto.conf" "$BROKER_CONF" && broker_changed=yes
  install_if_changed 0640 "$mosquitto_ids" "$REPO/config/mosquitto.acl" "$BROKER_ACL" \
    && broker_changed=yes
  if [ ! -e "$prefix$BROKER_PASSWD" ]; then
    install -m 0600 -o "${mosquitto_ids%:*}" -g "${mosquitto_ids#*:}" /dev/null \
      "$prefix$BROKER_PASSWD"
  fi
  ensure_broker_user "$USER_NAME" "$CONFIG_DIR/mqtt-password" "$hiprot_ids"
  ensure_broker_user wearer "$WEARER_PASSWORD" 0:0
  install_if_changed 0644 0:0 "$REPO/firmware/avahi-hiprot.service" "$AVAHI_SERVICE" || true
}

install_unit() {
  local changed=no modules
  modules=$(mktemp)
  echo i2c-dev > "$modules"
  install_if_changed 0644 root:root "$modules" "$MODULES" || true
  rm -f "$modules"
  install_if_changed 0644 root:root "$REPO/firmware/hiprot.service" "$UNIT" && changed=yes
  install_if_changed 0644 root:root "$REPO/firmware/hiprot-dashboard.service" "$DASHBOARD_UNIT" \
    && changed=yes && package_changed=yes
  if [ "$ROOT" = / ] && [ -d /run/systemd/system ]; then
    [ "$changed" = no ] || systemctl daemon-reload
    systemctl --quiet is-enabled hiprot.service || systemctl --quiet enable hiprot.service
    systemctl --quiet enable --now mosquitto.service avahi-daemon.service hiprot-dashboard.service
    [ "$broker_changed" = no ] || { systemctl restart mosquitto.service; say "restarted mosquitto"; }
    [ "$package_changed" = no ] || systemctl restart hiprot-dashboard.service
    say "services enabled; start the recorder with: systemctl restart hiprot"
  elif command -v systemctl >/dev/null 2>&1; then
    systemctl --root="$ROOT" --quiet enable hiprot.service hiprot-dashboard.service 2>/dev/null \
      || die "could not enable the services in $ROOT"
  else
    say "systemctl not found: enable hiprot.service and hiprot-dashboard.service on the target"
  fi
}

# show_dashboard: where a phone opens the dashboard (and a QR code on a terminal).
show_dashboard() {
  say "the wearer logs in to the dashboard as \"wearer\", password in $WEARER_PASSWORD (sudo cat it)"
  [ "$ROOT" = / ] || return 0
  "$VENV/bin/hiprot" dashboard --show-addresses --host 0.0.0.0 --port 8080 || true
}

check_python
install_packages
ensure_accounts
install_package
ensure_directories
ensure_broker
install_unit
show_dashboard
say "done"
