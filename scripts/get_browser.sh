#!/usr/bin/env bash
# Debian's chromium + chromium-driver for the real-browser test (Playwright never downloads one),
# and a CJK font so screenshots of the Chinese corpora show characters, not boxes.
set -u
need=()
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's ${need[*]} for the browser test ..."
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
   { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; }) ||
   echo "Could not install ${need[*]}; the browser test may be skipped."
else
  echo "Missing: 'sudo apt-get install ${need[*]}' enables the browser test."
fi
exit 0
