"""The adversarial suite's sizes, in one place: ``ci`` on every change, ``nightly`` with the issues' counts.

``CHAT_HYPOTHESIS_PROFILE`` picks the profile (default ``ci``): ``tox -e adversarial`` and ``bash .ci/run``
run ``ci``; ``tox -e adversarial-full`` and the scheduled workflow (.github/workflows/nightly.yml) run
``nightly``; ``quick`` is for editing a test, never for CI. adversarial/conftest.py registers each as a
hypothesis settings profile; the tests read their counts from :data:`SIZES`. docs/reliability.md lists
both profiles, and tests/test_ci_config.py fails when ``nightly`` falls below the counts the issues set.

Data only, without hypothesis: tests/test_ci_config.py reads it in envs that do not install hypothesis.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

#: The environment variable that picks a profile, and the profile when it is unset.
ENV = "CHAT_HYPOTHESIS_PROFILE"
DEFAULT = "ci"


@dataclass(frozen=True)
class Sizes:
    """How much one run of the suite tries."""

    #: Examples of every property without a count of its own: the codec's any-bytes-any-split, the
    #: loader's any-document and any-condition, the engine model, the three RE2 properties (time at
    #: the cap, meaning against Python's re, the ASCII twin) and the rule index's rule sets.
    examples: int
    #: Examples of each of the codec's four other angles (round trips, silences, call sequences, sends).
    codec_angles: int
    #: Generated documents that bots/schema.json and ``--check`` must judge alike.
    schema_documents: int
    #: Runs of the endings state machine, each of up to ENDINGS_STEPS steps.
    endings_runs: int
    #: Messages in each integrity test (the classic pair, and the serving bot), through the re-chunking proxy.
    integrity_messages: int
    #: Runs of each 1 MiB message to a slow reader, per program and TLS setting (about 8 s each).
    long_message_runs: int
    #: Shapes of adversarial/test_dialogue_bounds.py's dialogue files loaded, cheapest first (the
    #: last three, 1 MiB of rule lists, 9,000 topics and 18,000 conditional rules, take 3 to 6 s each).
    dialogue_shapes: int
    #: Dialogues flooded while another client's p99 is measured, each on both loops: the hostile
    #: regexes, then the bundled ones (adversarial/test_matching.py's FLOODED; 2 to 4 s each on uvloop).
    flood_dialogues: int


#: Steps of one run of the endings state machine, in every profile.
ENDINGS_STEPS = 30

#: The schema agreement's floor in any profile (issue 13: "at least 1,000 generated documents").
MIN_SCHEMA_DOCUMENTS = 1_000

# The load tests' counts, the same in every profile: each test lasts its measuring time (seconds),
# whatever the count, and runs in the timing pass (issue 7 set all three).
SLOW_PEERS = 1_000
FLOOD_MESSAGES = 100_000
DISCONNECTS = 1_000

PROFILES: Mapping[str, Sizes] = {
    # The full counts (issue 22): issue 7's at least 10,000 examples a property and 100,000 messages;
    # the 10,000 rule sets and schema documents and the 1,000 endings runs that issues 13, 14 and 15
    # closed with; the codec's 2,000 a secondary angle, as since issue 7.
    "nightly": Sizes(
        examples=10_000,
        codec_angles=2_000,
        schema_documents=10_000,
        endings_runs=1_000,
        integrity_messages=100_000,
        long_message_runs=5,
        dialogue_shapes=8,  # every shape (adversarial/test_dialogue_bounds.py checks it)
        flood_dialogues=6,  # every one (adversarial/test_matching.py checks it)
    ),
    # Sized so that `bash .ci/run` stays under 240 s on a 2-core machine (issue 22): at 1,000 examples
    # a property, the suite's first pass took 52 of the run's 350 CPU-seconds; at 500, 83 of 445 (the
    # suite had grown).
    "ci": Sizes(
        examples=250,
        codec_angles=100,
        schema_documents=MIN_SCHEMA_DOCUMENTS,
        endings_runs=100,
        integrity_messages=5_000,
        long_message_runs=1,
        dialogue_shapes=5,
        flood_dialogues=2,
    ),
    # For editing a test: seconds a property.
    "quick": Sizes(
        examples=200,
        codec_angles=100,
        schema_documents=MIN_SCHEMA_DOCUMENTS,
        endings_runs=50,
        integrity_messages=2_000,
        long_message_runs=1,
        dialogue_shapes=5,
        flood_dialogues=2,
    ),
}


class UnknownProfile(ValueError):
    """CHAT_HYPOTHESIS_PROFILE names no profile."""


def active_name(environ: Mapping[str, str] = os.environ) -> str:
    """The profile CHAT_HYPOTHESIS_PROFILE picks (DEFAULT when unset or empty)."""
    name = environ.get(ENV) or DEFAULT
    if name not in PROFILES:
        raise UnknownProfile(f"{ENV}={name}: no such profile; use one of {', '.join(PROFILES)}")
    return name


def active_sizes(environ: Mapping[str, str] = os.environ) -> Sizes:
    """The sizes of the profile CHAT_HYPOTHESIS_PROFILE picks."""
    return PROFILES[active_name(environ)]
