"""The ``script`` section: say and expect steps, blocks of lines (format 1.2), and whether it can run.

Its readers use the builder's parts (:class:`bots.loader.build.Builder`): replies for say
steps, patterns for expect steps.
"""

from __future__ import annotations

from yaml.nodes import Node, SequenceNode

from bots.loader.build import Builder
from bots.loader.format import STEP
from bots.model import Block, Ending, OnMismatch, Pattern, Step, StepKind
from chat.protocol import is_exit

#: The keys that make a step, one per step: what the bot says, or what it expects (format table).
STEP_KINDS = STEP.one_of[0]
STEP_KEYS = STEP.names


def read_script(builder: Builder, node: Node) -> tuple[Step, ...]:
    """The steps of a ``script:`` list, each problem reported; then whether every step can run."""
    if not isinstance(node, SequenceNode):
        builder.problem(node, "script must be a list of steps (- say: ... / - expect: ...)")
        return ()
    steps = [read_step(builder, number, item) for number, item in enumerate(node.value, start=1)]
    check_reachable(builder, node, steps)
    return tuple(step for step in steps if step is not None)


def read_step(builder: Builder, number: int, node: Node) -> Step | None:
    what = f"script step {number}"
    fields = builder.mapping(node, what, STEP_KEYS)
    if fields is None:
        return None
    kinds = [key for key in STEP_KINDS if key in fields]
    if len(kinds) != 1:
        if len(kinds) > 1:
            builder.problem(
                fields[kinds[1]][0], f"{what} has both '{kinds[0]}' and '{kinds[1]}': split it in two steps"
            )
        else:
            builder.problem(
                node, f"{what} needs 'say' or 'expect' (or, format 1.2, 'expect_lines', 'expect_until')"
            )
        return None
    key = kinds[0]
    if builder.refused(fields, STEP):  # keys of a newer format than the file's
        return None
    name = builder.string(fields["name"][1], "name") if "name" in fields else None
    on_mismatch = builder.draft.on_mismatch
    if "on_mismatch" in fields:
        chosen = builder.choice(fields["on_mismatch"][1], "on_mismatch", OnMismatch)
        since = dict(STEP["on_mismatch"].words).get(str(chosen), "1")
        if chosen is not None and not builder.needs(
            since, fields["on_mismatch"][1], f"on_mismatch: {chosen}"
        ):
            chosen = None
        on_mismatch = chosen or on_mismatch
    timeout = builder.draft.timeout
    if "timeout" in fields:
        timeout = builder.number(fields["timeout"][1], "timeout", positive=True) or timeout
    where = builder.where(node)
    for extra in STEP.keys:  # keys that belong with some kinds of step only
        if extra.name in fields and extra.goes_with and key not in extra.goes_with:
            kind = "say steps" if key == StepKind.SAY else f"{key} steps"
            belongs = "expect steps" if len(extra.goes_with) > 1 else f"{extra.goes_with[0]} steps"
            builder.problem(fields[extra.name][0], f"'{extra.name}' belongs to {belongs}, not to {kind}")
    if key == StepKind.SAY:
        reply = builder.reply(fields["say"][1], "say", frozenset())
        return (
            None
            if reply is None
            else Step(number, StepKind.SAY, reply, (), timeout, on_mismatch, name, where)
        )
    block = None if key == StepKind.EXPECT else Block(key)
    any_order = False
    if "any_order" in fields and block is Block.LINES:
        any_order = bool(builder.boolean(fields["any_order"][1], "any_order"))
    patterns = _patterns(builder, fields[key][1], key, block)
    if patterns is None:
        return None
    for pattern in patterns:  # an expect step's named captures become variables for later steps
        builder.define((n for n in sorted(pattern.captures) if not n.isdigit()), node)
    return Step(
        number,
        StepKind.EXPECT,
        None,
        patterns,
        timeout,
        on_mismatch,
        name,
        where,
        block=block,
        any_order=any_order,
    )


def _patterns(builder: Builder, node: Node, key: str, block: Block | None) -> tuple[Pattern, ...] | None:
    """One pattern (expect, expect_until), or one per line (expect_lines)."""
    if block is not Block.LINES:
        pattern = builder.pattern_spec(node, key)
        return None if pattern is None else (pattern,)
    if not isinstance(node, SequenceNode):
        builder.problem(
            node, "expect_lines must be a list: one pattern per line, e.g. [hello, {regex: '^250 '}]"
        )
        return None
    if not node.value:
        builder.problem(node, "expect_lines is an empty list: give one pattern per line the step expects")
        return None
    patterns = [
        builder.pattern_spec(item, f"line {n} of expect_lines") for n, item in enumerate(node.value, 1)
    ]
    if any(pattern is None for pattern in patterns):
        return None
    return tuple(pattern for pattern in patterns if pattern is not None)


def check_reachable(builder: Builder, node: Node, steps: list[Step | None]) -> None:
    """A step after a ``say: exit`` (where `exit` ends chats) can never run: refuse it."""
    if builder.draft.ending is not Ending.EXIT:
        return  # `exit` is a line like any other there
    for position, step in enumerate(steps[:-1]):
        reply = None if step is None else step.reply
        if (
            reply is not None
            and len(reply.choices) == 1
            and reply.choices[0].parts == (reply.choices[0].source,)
        ):
            if not is_exit(reply.choices[0].source):
                continue
            following = node.value[position + 1]
            builder.problem(
                following,
                f"script step {position + 2} can never run: "
                f"step {position + 1} says exit, which ends the chat",
            )
            return


__all__ = ["STEP_KEYS", "read_script"]
