"""
Ctrl-C and SIGTERM stop `t3d-ros train`'s loop between rclpy calls, however they land.

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

    def first_exited(self):
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


IN_A_TERMINAL, IN_A_BACKGROUND_JOB = signal.default_int_handler, signal.SIG_IGN
"""SIGINT as Python sets it up in a foreground process, and as a background job inherits it."""


@pytest.mark.parametrize('signum,job', [(signal.SIGINT, IN_A_TERMINAL),
                                        (signal.SIGTERM, IN_A_TERMINAL),
                                        (signal.SIGTERM, IN_A_BACKGROUND_JOB)],
                         ids=['ctrl_c', 'sigterm', 'sigterm_in_a_background_job'])
def test_a_signal_inside_an_rclpy_call_stops_the_loop_and_the_nodes(
        tmp_path, signal_inside_rclpy, signum, job):
    raised, calls = signal_inside_rclpy
    raised.append(signum)
    with sigint(job), sigterm_as_interrupt():  # as the `t3d-ros` command runs it
        outcome = train(tmp_path)
    assert outcome.interrupted and outcome.failure is None
    assert len(calls) == 1, 'the loop went on after the signal'
    assert StandInGroup.stopped == 1


def test_an_ignored_ctrl_c_stays_ignored(tmp_path, signal_inside_rclpy):
    raised, calls = signal_inside_rclpy
    raised.append(signal.SIGINT)
    with sigint(IN_A_BACKGROUND_JOB):
        outcome = train(tmp_path, max_minutes=0.3 / 60)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert not outcome.interrupted and len(calls) > 1
    assert StandInGroup.stopped == 1


def test_the_flag_handlers_are_put_back():
    with sigint(IN_A_TERMINAL):
        before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
        with signals_as_stop_flag() as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert stop == [signal.SIGTERM, signal.SIGINT]
        assert {signum: signal.getsignal(signum) for signum in before} == before
