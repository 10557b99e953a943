"""
The `t3d-ros` command in a subprocess (docs/architecture.md, "Files").

A short training run leaves a complete run directory; Ctrl-C (SIGTERM, SIGHUP) stops every node
and still saves the policy; a node that refuses its parameters ends the command with an error
naming it; `t3d-ros eval` prints a mean return.

Node processes are found as the command's children (/proc) and killed at the end of each
test whatever happens (cli_process.py).
"""
import re
import signal
import time
from pathlib import Path

import pytest

pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')

from cli_process import STARTUP, TRAIN, untrained_policy  # noqa: E402
from t3d_ros.tasks import make_task  # noqa: E402
from t3d_ros.bundle.policy_bundle import PolicyBundle  # noqa: E402
from t3d_ros.td3.checkpoint import latest_checkpoint, load_checkpoint  # noqa: E402
from t3d_ros.td3.config import TD3Config  # noqa: E402
from t3d_ros.td3.td3 import TD3  # noqa: E402
from t3d_ros.training.run_dir import read_csv  # noqa: E402


def check_policy(path: Path) -> PolicyBundle:
    bundle = PolicyBundle.load(path)
    bundle.check_matches(make_task('pendulum'))
    return bundle


@pytest.mark.slow
def test_train_leaves_a_complete_run_directory(cli, tmp_path):
    run_dir = tmp_path / 'run'
    c = cli().start(*TRAIN, '--steps', '600', '--run-dir', str(run_dir))
    code, out, err = c.finish()
    assert code == 0, out + err
    assert len(c.nodes) == 3, c.nodes  # learner, sim, actor
    assert not c.left_running()
    for name in ('config.yaml', 'metrics.csv', 'learning_curve.png', 'policy.safetensors',
                 'evaluations.csv'):
        assert (run_dir / name).is_file(), name
    assert (run_dir / 'learning_curve.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'robot_0/actor' in (run_dir / 'config.yaml').read_text()
    metrics = read_csv(run_dir / 'metrics.csv')
    assert len(metrics['episode_return']) >= 2  # 200-step episodes
    checkpoint = latest_checkpoint(run_dir / 'checkpoints')
    assert checkpoint is not None
    bundle = check_policy(run_dir / 'policy.safetensors')
    agent = TD3(3, [-2.0], [2.0], TD3Config(hidden_sizes=bundle.hidden_sizes))
    counters = load_checkpoint(checkpoint, agent)
    assert counters['env_steps'] >= 600 and agent.total_updates == bundle.update_step > 0
    assert re.search(r'final evaluation over 2 episodes: -?\d+\.\d', out), out


@pytest.mark.parametrize('signals', [(signal.SIGINT,), (signal.SIGINT, signal.SIGINT),
                                     (signal.SIGTERM,), (signal.SIGTERM, signal.SIGTERM),
                                     (signal.SIGHUP,)],
                         ids=['ctrl_c', 'ctrl_c_twice', 'sigterm', 'sigterm_twice', 'sighup'])
@pytest.mark.slow
def test_ctrl_c_stops_every_node_cleanly_and_saves_the_policy(cli, tmp_path, signals):
    # SIGTERM (systemd, docker stop, a job's timeout) and SIGHUP (a closed terminal, a lost SSH
    # session) must stop the nodes as Ctrl-C does (issue 18).
    run_dir = tmp_path / 'run'
    c = cli().start(*TRAIN, '--steps', '10000000', '--run-dir', str(run_dir))
    metrics = run_dir / 'metrics.csv'
    c.wait_for(lambda: metrics.is_file() and len(metrics.read_text().splitlines()) >= 2,
               STARTUP, 'a first training episode')
    assert len(c.watch_nodes()) == 3, c.nodes
    for i, signum in enumerate(signals):
        if i:  # an impatient user: the second signal lands while the nodes stop
            time.sleep(0.2)
        c.process.send_signal(signum)
    code, out, err = c.finish(timeout=90.0)
    assert code == 130, out + err
    assert not c.left_running()
    bundle = check_policy(run_dir / 'policy.safetensors')
    assert bundle.update_step > 0
    assert latest_checkpoint(run_dir / 'checkpoints') is not None
    assert 'Traceback' not in err, err
    # Each node stopped on the SIGINT it was sent, on its own (not SIGTERM/SIGKILL).
    for log in (run_dir / 'logs').glob('*.log'):
        assert 'Traceback' not in log.read_text(errors='replace'), log


def test_a_node_with_a_bad_parameter_fails_the_command_naming_it(cli, tmp_path):
    c = cli().start(*TRAIN, '--steps', '600', '--run-dir', str(tmp_path / 'run'),
                    '--set', 'sim.mode=bogus')
    code, out, err = c.finish()
    assert code not in (0, 130), out + err
    assert 'robot_0/sim exited with status 1' in err, err
    assert "parameter 'mode' must be one of ['lockstep', 'realtime'], not 'bogus'" in err, err
    assert not c.left_running()


@pytest.mark.slow
def test_eval_prints_the_mean_return_of_a_policy(cli, tmp_path):
    policy = untrained_policy(tmp_path / 'policy.safetensors', version=7)
    code, out, err = cli().start('eval', str(policy), '--episodes', '2').finish()
    assert code == 0, out + err
    match = re.search(r'pendulum: mean return (-?\d+\.\d+) \+- \d+\.\d+ over 2 episodes '
                      r'\(policy v7', out)
    assert match, out
    assert -16.3 * 200 <= float(match[1]) <= 0.0  # pendulum rewards are in [-16.3, 0]

    garbage = tmp_path / 'garbage.safetensors'
    garbage.write_bytes(b'not a policy bundle')
    code, out, err = cli().start('eval', str(garbage)).finish()
    assert code == 2 and 't3d-ros eval:' in err and 'Traceback' not in err, out + err


def test_deploy_with_a_bad_bundle_fails_the_command_with_the_reason(cli, tmp_path):
    """
    Refuse an undeployable bundle before any node starts (issue 7.5).

    One the actor refuses at its autostart configure ends the command (issue 8.2).
    """
    policy = tmp_path / 'policy.safetensors'
    policy.write_bytes(b'not a bundle')
    c = cli().start('deploy', str(policy), '--task', 'pendulum', '--with-sim',
                    '--log-dir', str(tmp_path / 'logs'))
    code, out, err = c.finish(timeout=STARTUP)
    assert code == 2 and 't3d-ros deploy:' in err and 'Traceback' not in err, out + err
    assert not (tmp_path / 'logs').exists()  # nothing was started

    untrained_policy(policy)
    c = cli().start('deploy', str(policy), '--with-sim', '--log-dir', str(tmp_path / 'logs'),
                    '--set', 'actor.command_low=[5.0]')  # above the policy's high: refused
    code, out, err = c.finish(timeout=STARTUP)
    assert code == 1, out + err
    assert '/actor exited with status 1' in err and 'autostart: configure failed' in err, err
    assert not c.left_running()
