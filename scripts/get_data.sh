#!/usr/bin/env bash
# Offline data from Debian packages when possible: Fashion-MNIST (dataset-fashion-mnist), the
# language-model corpora (fortunes-zh: Tang/Song poems and Chinese prose; fortunes: English) and
# the open-gram word trigram of the sunpinyin input method (sunpinyin-data: the pinyin tab).
# Never fails the set-up: without data the app still starts and explains how to get it.
set -u
need=()
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ -z "${DLSTUDIO_DATA_ROOT:-}" ]; then
  need+=(dataset-fashion-mnist)
fi
[ -f /usr/share/games/fortunes/tang300 ] || need+=(fortunes-zh)
[ -f /usr/share/games/fortunes/cookie ] || need+=(fortunes)
ls /usr/lib/*/sunpinyin/data/lm_sc.t3g >/dev/null 2>&1 || need+=(sunpinyin-data)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's ${need[*]} ..."
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
   { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; }) ||
   echo "Could not install ${need[*]}; the app will explain how to get the data."
else
  echo "Missing data: run 'sudo apt-get install ${need[*]}' (or set DLSTUDIO_DATA_ROOT for Fashion-MNIST;"
  echo "when online, torchvision downloads it on first use)."
fi
exit 0
