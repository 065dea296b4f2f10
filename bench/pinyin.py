"""The open-gram word trigram (core.pinyin): load time, pinyin conversion time, and the tutorial's
homophone pair.

    python bench/pinyin.py              # needs Debian's sunpinyin-data

Load time is the first ``load_model()`` of a fresh process (the files may sit in the OS cache);
conversion times are the first call (trie nodes still unread) and the median of 20 repeats.
"""
from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import pinyin  # noqa: E402

INPUTS = [pinyin.TUTORIAL_PINYIN,                        # 8 syllables
          "wo men jin tian qu xue xiao shang ke le",    # 10 syllables
          "zhe shi yi ge fei chang hao de wen ti",      # 10 syllables
          "mei tian zao shang he yi bei niu nai"]       # 9 syllables
# The pinyin tab's examples (A is the sentence that makes sense).
PAIRS = [pinyin.TUTORIAL_PAIR, ("中东的石油价格上涨", "中东的食油价格上涨"),
         ("我的电脑坏了", "我的电脑怀了"), ("现在几点了", "现在几点乐"),
         ("我们今天去学校上课", "我们今天去学校尚可"), ("下雨了记得带伞", "下雨了记得带三")]


def main() -> None:
    try:
        started = time.perf_counter()
        model = pinyin.load_model()
        load_seconds = time.perf_counter() - started
    except pinyin.PinyinUnavailable as error:
        sys.exit(str(error))
    print(f"data: {model.folder}")
    print(f"load: {load_seconds * 1000:.0f} ms  ({model.sizes})")
    print()
    print("| pinyin | syllables | best sentence | first call ms | median ms (20 runs) |")
    print("|---|---|---|---|---|")
    for typed in INPUTS:
        first = model.convert(typed).seconds
        times = [model.convert(typed).seconds for _ in range(20)]
        conversion = model.convert(typed)
        print(f"| {typed} | {len(conversion.syllables)} | {conversion.best.text} | "
              f"{first * 1000:.0f} | {statistics.median(times) * 1000:.0f} |")
    print()
    conversion = model.convert(pinyin.TUTORIAL_PINYIN, count=10)
    print(f"{pinyin.TUTORIAL_PINYIN} → the 10 best:")
    for rank, sentence in enumerate(conversion.sentences, start=1):
        print(f"  {rank:2d}. {sentence.text}  ({sentence.segmented})  "
              f"ln P {sentence.log_probability:.3f}")
    print()
    print("| A | B | ln P(A) | ln P(B) | P(A) / P(B) |")
    print("|---|---|---|---|---|")
    for a, b in PAIRS:
        score_a, score_b = model.score(a), model.score(b)
        ratio = math.exp(score_a.log_probability - score_b.log_probability)
        print(f"| {score_a.segmented} | {score_b.segmented} | {score_a.log_probability:.3f} | "
              f"{score_b.log_probability:.3f} | {ratio:.4g} |")


if __name__ == "__main__":
    main()
