"""The mutants the suite does not catch yet really break their requirement (the gap is in the suite, not an
inert mutant). Each check runs in a fresh process: a mutant patches the sample EMA's classes for good."""

import subprocess
import sys
import textwrap

RELAYED = """
    import asyncio
    from conformance.ema.config import EmaConfig, Endpoint
    from conformance.ema.main import RunningEma
    from conformance.ema.mutants import get

    get("i-events-relayed-verbatim").apply()
    FAST = dict(t_prompt=2.0, poll_freq=1.0, ack_timeout=0.3, ack_random_factor=1.0, max_retransmit=1,
                backoff_initial=0.5, backoff_cap=2.0)

    def config(role, upper=None, mode="pull"):
        return EmaConfig(role=role, mode=mode, bind=Endpoint("127.0.0.1", 0, ("emap",)),
                         lower_bind=Endpoint("127.0.0.1", 0, ("emapl",)) if role == "lower" else None,
                         upper=upper, control=Endpoint("127.0.0.1", 0), vtn_id=f"vtn-{role}", **FAST)

    async def main():
        stack, seen = [], []
        try:
            stack.append(RunningEma(config("upper")))
            await stack[-1].start()
            middle_cfg = config("intermediate", stack[0].ready["upper"], "push")
            stack.append(RunningEma(middle_cfg))
            await stack[-1].start()
            stack.append(RunningEma(config("lower", stack[1].ready["upper"], "pull")))
            await stack[-1].start()
            top, middle, leaf = (s.agent for s in stack)
            leaf_role, process = leaf.role, leaf.role.process

            def recording(message):
                seen.append((message.name, message.body.get("vtnID")))
                return process(message)

            leaf_role.process = recording
            async with asyncio.timeout(20):
                while middle.lower.link is None or leaf_role.link is None:
                    await asyncio.sleep(0.05)
                status, detail = await top.role.stimulate("create-event", {"venID": middle.lower.link.ven_id})
                assert status == "accepted", detail
                while ("emapDistributeEvent", "vtn-upper") not in seen:
                    await asyncio.sleep(0.05)
        finally:
            for running in reversed(stack):
                await running.stop()
        print(sorted(set(seen)))

    asyncio.run(main())
"""


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_relay_mutant_hands_the_parent_vtnid_to_a_lower_ema():
    """i-events-relayed-verbatim (EMAP-5-08) survives because TC-L-5-02 looks only at the registration answer;
    the mutant's lower EMAs do get an emapDistributeEvent with the parent's vtnID."""
    assert "('emapDistributeEvent', 'vtn-upper')" in run(RELAYED)
