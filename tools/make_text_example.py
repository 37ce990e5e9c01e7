"""Write nnstudio/examples/text_sentiment.csv: short product reviews whose sentiment a clear rule decides.

Each review names a product and says one or two things about it; every opinion word is either positive or
negative, and one review holds words of one side only, so its label follows from its words, wherever they
stand. Shop names are drawn from 400, far more than the example's vocabulary keeps, so validation and test
reviews carry unknown tokens as real ones do. The file is seeded: running this again writes the same bytes.

    python tools/make_text_example.py          (re-)write the file
    python tools/make_text_example.py --check  exit 1 when the shipped file differs from what this writes
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "nnstudio" / "examples" / "text_sentiment.csv"
ROWS = 3000
SEED = 7
PRODUCTS = ("phone", "laptop", "kettle", "lamp", "chair", "camera", "blender", "jacket", "backpack", "speaker",
            "keyboard", "tent", "watch", "printer", "mattress")
POSITIVE = ("great", "excellent", "lovely", "sturdy", "reliable", "comfortable", "fast", "perfect", "brilliant",
            "handy", "quiet", "elegant")
NEGATIVE = ("awful", "broken", "flimsy", "noisy", "slow", "useless", "disappointing", "cheap", "faulty",
            "uncomfortable", "ugly", "terrible")
INTENSIFIERS = ("very", "really", "quite", "so", "truly", "rather")
OPENERS = ("the {p} is {w}", "this {p} feels {w}", "my new {p} is {w}", "i found the {p} {w}",
           "bought a {p} from {s} and it is {w}", "the {p} from {s} turned out {w}")
SECOND = ("and {w} too", "and also {w}", ", {i} {w} overall", "; {w} after a week")
SHOPS = tuple(f"shop{n}" for n in range(400))


def review(rng: random.Random, positive: bool) -> str:
    """One review: an opener, maybe a second remark, words of one side only."""
    words = POSITIVE if positive else NEGATIVE
    first, second = rng.sample(words, 2)  # two different opinion words of the same side
    said = f"{rng.choice(INTENSIFIERS)} {first}" if rng.random() < 0.5 else first
    text = rng.choice(OPENERS).format(p=rng.choice(PRODUCTS), w=said, s=rng.choice(SHOPS))
    if rng.random() < 0.5:
        text += " " + rng.choice(SECOND).format(w=second, i=rng.choice(INTENSIFIERS))
    return text.replace(" ,", ",").replace(" ;", ";") + rng.choice((".", "!", ""))


def rows(count: int = ROWS, seed: int = SEED) -> list[tuple[str, str]]:
    """(review, 'positive' | 'negative') pairs, half of each, in a seeded order."""
    rng = random.Random(seed)
    labels = [i % 2 == 0 for i in range(count)]
    rng.shuffle(labels)
    return [(review(rng, positive), "positive" if positive else "negative") for positive in labels]


def text(count: int = ROWS, seed: int = SEED) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("review", "sentiment"))
    writer.writerows(rows(count, seed))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the shipped file is current")
    args = parser.parse_args(argv)
    wanted = text()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != wanted:
            print(f"{OUT.name}: out of date; run python tools/make_text_example.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(wanted, encoding="utf-8")
    print(f"wrote {OUT.name} ({ROWS} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
