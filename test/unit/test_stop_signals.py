"""
Ctrl-C, SIGTERM and SIGHUP stop `t3d-ros train`'s loop between rclpy calls, however they land.

A signal whose handler raises while rclpy's C++ converts a message comes out of ``spin_once``
as a RuntimeError ("Unable to convert call argument '0' to Python object", seen in CI on a
SIGTERM), not as KeyboardInterrupt. Here ``spin_once`` models that; the node processes are a
stand-in that records being stopped.

Each test sets the SIGINT disposition it relies on: the suite may run as a background job,
which inherits SIGINT ignored.
"""
import contextlib
import os
import signal
import time

import pytest
from rclpy.executors import SingleThreadedExecutor

from t3d_ros.graph import training as ros_training
from t3d_ros.graph.supervisor import sigterm_as_interrupt, signals_as_stop_flag


class StandInGroup:
    stopped = 0

    def __init__(self, *args):
        pass

    def start(self):
        return self

    def supervise(self):
        return None

    def stop(self):
        StandInGroup.stopped += 1
        return {'/learner': 0}


@pytest.fixture
def signal_inside_rclpy(monkeypatch):
    """``spin_once`` gets the signal ``raised[0]`` in its first call, as rclpy's C++ would."""
    monkeypatch.setattr(ros_training, 'ProcessGroup', StandInGroup)
    StandInGroup.stopped = 0
    raised, calls = [], []

    def spin_once(executor, timeout_sec=None):
        calls.append(timeout_sec)
        if len(calls) == 1:
            try:
                os.kill(os.getpid(), raised[0])
                time.sleep(0.05)  # the handler runs here, inside the call
            except KeyboardInterrupt as error:  # what pybind11 makes of an exception there
                raise RuntimeError("Unable to convert call argument '0' to Python object") \
                    from error
    monkeypatch.setattr(SingleThreadedExecutor, 'spin_once', spin_once)
    return raised, calls


def train(tmp_path, max_minutes=1.0):
    """Train with the stand-ins; a signal that is not taken ends it after ``max_minutes``."""
    return ros_training.train_over_ros('pendulum', 1, [], 0, tmp_path, {}, steps=1000,
                                       max_minutes=max_minutes)


@contextlib.contextmanager
def sigint(handler):
    """Handle SIGINT with ``handler`` meanwhile, whatever this process inherited."""
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


IN_A_BACKGROUND_JOB = signal.SIG_IGN
"""SIGINT as a background job inherits it."""


@pytest.fixture
def terminal_signals():
    """
    Give Ctrl-C and SIGHUP the dispositions of a terminal's foreground command meanwhile.

    Yield the SIGHUPs caught in place of its default (which ends the process), so that one no
    code under test takes fails a test instead of ending the run. Ctrl-C raises
    KeyboardInterrupt even where the suite runs as a background job (SIGINT ignored).
    """
    caught = []
    previous = {signal.SIGHUP: signal.signal(signal.SIGHUP,
                                             lambda signum, frame: caught.append(signum)),
                signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler)}
    yield caught
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=['ctrl_c', 'sigterm', 'sighup'])
def test_a_signal_inside_an_rclpy_call_stops_the_loop_and_the_nodes(
        tmp_path, signal_inside_rclpy, terminal_signals, signum):
    raised, calls = signal_inside_rclpy
    raised.append(signum)
    with sigterm_as_interrupt():  # as the `t3d-ros` command runs it
        outcome = train(tmp_path, max_minutes=0.3 / 60)
    assert outcome.interrupted and outcome.failure is None
    assert len(calls) == 1, 'the loop went on after the signal'
    assert StandInGroup.stopped == 1
    assert not terminal_signals


def test_a_sighup_outside_the_loop_interrupts_the_command(terminal_signals):
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.05)
    assert not terminal_signals


def test_an_ignored_sighup_stays_ignored(tmp_path, signal_inside_rclpy):
    """Under ``nohup``: the run goes on when the terminal closes."""
    raised, calls = signal_inside_rclpy
    raised.append(signal.SIGHUP)
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with sigterm_as_interrupt():
            outcome = train(tmp_path, max_minutes=0.3 / 60)
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert not outcome.interrupted and len(calls) > 1
    assert StandInGroup.stopped == 1


def test_an_ignored_ctrl_c_stays_ignored(tmp_path, signal_inside_rclpy):
    raised, calls = signal_inside_rclpy
    raised.append(signal.SIGINT)
    with sigint(IN_A_BACKGROUND_JOB):
        outcome = train(tmp_path, max_minutes=0.3 / 60)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert not outcome.interrupted and len(calls) > 1
    assert StandInGroup.stopped == 1


def test_the_flag_handlers_are_put_back(terminal_signals):
    before = {signum: signal.getsignal(signum)
              for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with signals_as_stop_flag() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.05)
    assert stop == [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    assert {signum: signal.getsignal(signum) for signum in before} == before
