"""Presidio's Swedish recognizer on the labelled real-chat corpus (issue 14), side by side
with motesvakt's figures in docs/detection.md.

Run by scripts/presidio-corpus inside a venv with presidio-analyzer (set up as
shared/research/pii.md section 7 says). Usage: python presidio_corpus.py CORPUS.jsonl
(the file examples/chat_corpus.rs writes). Prints one JSON object with the counts; never a
message.

Engine: the blank spaCy `sv` pipeline with a component that sets lemma = lower text (keeps
Presidio's context enhancer working); recognizer: the built-in SePersonnummerRecognizer. A
message counts as flagged when a result scores >= 0.5 (as scripts/presidio_bench.py; validated
matches score 1.0 whatever the threshold, pii.md section 7.2). A flagged message with an
identity number counts as found only when a result overlaps the labelled number.
"""
import json
import sys
import time

from presidio_bench import BlankSvEngine, analyzer


def main():
    rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    a = analyzer(BlankSvEngine())
    tp = fp = fn = tn = 0
    by_kind = {}
    start = time.perf_counter()
    for r in rows:
        text = r["text"]
        results = [x for x in a.analyze(text, language="sv") if x.score >= 0.5]
        if r["label"]:
            # The label is a byte span; Presidio reports character offsets.
            s, e = r["span"]
            cs = len(text.encode("utf-8")[:s].decode("utf-8", "ignore"))
            ce = len(text.encode("utf-8")[:e].decode("utf-8", "ignore"))
            found = any(x.start < ce and cs < x.end for x in results)
        else:
            found = bool(results)
        k = by_kind.setdefault(r["kind"], [0, 0])
        if r["label"] and found:
            tp += 1
        elif r["label"]:
            fn += 1
            k[1] += 1
        elif found:
            fp += 1
            k[0] += 1
        else:
            tn += 1
    secs = time.perf_counter() - start
    from importlib.metadata import version

    print(json.dumps({
        "messages": len(rows),
        "presidio": version("presidio-analyzer"),
        "python": sys.version.split()[0],
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "msgs_per_s": len(rows) / secs,
        "wrong_by_kind": {k: {"fp": v[0], "fn": v[1]} for k, v in sorted(by_kind.items()) if v != [0, 0]},
    }))


if __name__ == "__main__":
    main()
