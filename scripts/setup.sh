# Sourced by run.sh, run-cluster.sh and test.sh: idempotent set-up of the venv (and, for tests, Debian's kcat,
# zookeeper and postgresql; zookeeper for run-cluster.sh too).
need_apt=()
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
if [ "${BROOK_TEST_DEPS:-0}" = 1 ] && ! command -v kcat >/dev/null 2>&1; then need_apt+=(kcat); fi
if { [ "${BROOK_TEST_DEPS:-0}" = 1 ] || [ "${BROOK_ZOOKEEPER:-0}" = 1 ]; } && [ ! -f /usr/share/java/zookeeper.jar ]; then
  need_apt+=(zookeeper)
fi
if [ "${BROOK_TEST_DEPS:-0}" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt+=(postgresql)  # the JDBC connectors' tests run a private cluster (tests/conftest.py)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
hash=$(sha1sum pyproject.toml | cut -c1-40)
have=$(cat .venv/.brook-installed 2>/dev/null || true)
if [ "${BROOK_TEST_DEPS:-0}" = 1 ]; then
  [ "$have" = "$hash-test" ] || { .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" \
    && echo "$hash-test" > .venv/.brook-installed; }
else
  case "$have" in "$hash"*) ;; *) .venv/bin/python -m pip install -q --disable-pip-version-check -e . \
    && echo "$hash" > .venv/.brook-installed ;; esac
fi
