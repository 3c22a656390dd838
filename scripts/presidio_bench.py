"""Presidio's messages/s on the chat corpus, set up as shared/research/pii.md section 7 says.

Run by scripts/bench inside its venv (target/bench/presidio-venv) with presidio-analyzer from
PyPI. Usage: python presidio_bench.py CHAT.jsonl. Prints one JSON object; never a message.

Engines: the blank spaCy `sv` pipeline with a component that sets lemma = lower text (keeps
Presidio's context enhancer working), and the NoOp NLP engine. Recognizer: the built-in
SePersonnummerRecognizer. One thread; 200 warm-up calls, then 3 passes over every message,
each timed with perf_counter; the median and best pass are reported.
"""
import json
import statistics
import sys
import time

import spacy
from spacy.language import Language
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SePersonnummerRecognizer


@Language.component("lemma_lower")
def lemma_lower(doc):
    for token in doc:
        token.lemma_ = token.lower_
    return doc


class BlankSvEngine(SpacyNlpEngine):
    def __init__(self):
        super().__init__(models=[{"lang_code": "sv", "model_name": "blank"}])

    def load(self):
        nlp = spacy.blank("sv")
        nlp.add_pipe("lemma_lower")
        self.nlp = {"sv": nlp}


def noop_engine():
    from presidio_analyzer.nlp_engine.no_op_nlp_engine import NoOpNlpEngine

    return NoOpNlpEngine(models=[{"lang_code": "sv", "model_name": "none"}])


def analyzer(engine):
    registry = RecognizerRegistry(supported_languages=["sv"])
    registry.add_recognizer(SePersonnummerRecognizer())
    engine.load()
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["sv"])


def measure(engine, texts):
    a = analyzer(engine)
    for t in texts[:200]:
        a.analyze(t, language="sv")
    passes = []
    flagged = 0
    for _ in range(3):
        flagged = 0
        start = time.perf_counter()
        for t in texts:
            if any(r.score >= 0.5 for r in a.analyze(t, language="sv")):
                flagged += 1
        passes.append(len(texts) / (time.perf_counter() - start))
    return {
        "median_msgs_per_s": statistics.median(passes),
        "best_msgs_per_s": max(passes),
        "flagged": flagged,
    }


def main():
    texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    from importlib.metadata import version

    out = {"messages": len(texts), "presidio": version("presidio-analyzer"),
           "python": sys.version.split()[0]}
    out["blank_sv"] = measure(BlankSvEngine(), texts)
    out["noop"] = measure(noop_engine(), texts)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
