# Sourced by the scripts: installs the pinned Python tools (moto, cfn-lint, localstripe, aws-sam-translator) into
# .tools/venv once, and again whenever requirements-dev.txt changes.
TOOLS_DIR="${ORDERFLOW_TOOLS_DIR:-$PWD/.tools}"

install_python_tools() {
  local venv="$TOOLS_DIR/venv" stamp="$TOOLS_DIR/venv/.requirements"
  if [ ! -x "$venv/bin/python" ] || ! cmp -s requirements-dev.txt "$stamp"; then
    echo "==> installing the local cloud's tools into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    cp requirements-dev.txt "$stamp"
  fi
  export ORDERFLOW_PYTHON="$venv/bin/python"
  export PATH="$venv/bin:$PATH"
}

# The e-mail previews' browser test opens them in Debian's Chromium (headless).
install_chromium() {
  if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    return
  fi
  echo "==> installing Debian's chromium for the e-mail preview test"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}
