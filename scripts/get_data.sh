#!/usr/bin/env bash
# Make Fashion-MNIST available offline: Debian's dataset-fashion-mnist package when possible.
# Never fails the set-up: without data the app still starts and explains how to get it.
set -u
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -n "${DLSTUDIO_DATA_ROOT:-}" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's dataset-fashion-mnist ..."
  (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
   { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }) ||
   echo "Could not install dataset-fashion-mnist; the app will explain how to get the data."
else
  echo "Fashion-MNIST not found. Run 'sudo apt-get install dataset-fashion-mnist', or set DLSTUDIO_DATA_ROOT;"
  echo "when online, torchvision downloads it on first use."
fi
exit 0
