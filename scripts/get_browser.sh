#!/usr/bin/env bash
# Debian's chromium + chromium-driver for the real-browser test (Playwright never downloads one).
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's chromium for the browser test ..."
  (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 ||
   { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }) ||
   echo "Could not install chromium; the browser test will be skipped."
else
  echo "chromium not found: 'sudo apt-get install chromium chromium-driver' enables the browser test."
fi
exit 0
