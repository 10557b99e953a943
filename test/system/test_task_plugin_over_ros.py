"""
A task of the user's own package trains over ROS 2 (issue 19.3): sim, actor and learner processes.

The example package (``test/data/t3d_example_task``, conftest's ``example_task``) is on the
nodes' PYTHONPATH only; they find its ``slider`` task through its entry point, as the test does.
"""
import pytest

from t3d_ros.bundle.policy_bundle import PolicyBundle

pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')

STEPS = 400


def test_a_task_of_an_installed_package_trains_over_ros(example_task, tmp_path):
    from t3d_ros.graph.training import train_over_ros

    outcome = train_over_ros('slider', 1, ['test_fast.yaml'], seed=0, run_dir=tmp_path,
                             overrides={}, steps=STEPS, max_minutes=5.0, env=example_task.env())
    assert outcome.failure is None, outcome.failure
    assert outcome.env_steps >= STEPS and outcome.updates > 0, outcome
    bundle = PolicyBundle.load(tmp_path / 'policy.safetensors')
    assert (bundle.task, bundle.task_package) == ('slider', ('t3d-example-task', '0.1.0'))
    assert bundle.update_step > 0
