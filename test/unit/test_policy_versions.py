"""The learner core's policy versions: recorded a block at a time, bundled for a listener."""
from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.training.learner import POLICY_VERSION_BLOCK, Learner, LearnerOptions
from t3d_ros.training.run_dir import RunDirectory

CONFIG = TD3Config(hidden_sizes=(8, 8), batch_size=4, replay_capacity=100)


def test_versions_are_recorded_a_block_at_a_time_and_bundled_only_for_a_listener(tmp_path):
    run = RunDirectory(tmp_path / 'run', tensorboard=False)
    learner = Learner(make_task('pendulum'), CONFIG, LearnerOptions(), run)
    recorded, bundled = [], []
    record = run.record_policy_version
    run.record_policy_version = lambda version: (recorded.append(version), record(version))
    learner.bundle = lambda: bundled.append(learner.counters['policy_version'])
    for _ in range(2 * POLICY_VERSION_BLOCK + 1):
        learner.publish_policy()
    assert learner.counters['policy_version'] == 2 * POLICY_VERSION_BLOCK + 1
    # Each version is recorded (as issuable) before it is issued: one durable write per block.
    assert recorded == [POLICY_VERSION_BLOCK, 2 * POLICY_VERSION_BLOCK,
                        3 * POLICY_VERSION_BLOCK]
    assert run.last_policy_version() == 3 * POLICY_VERSION_BLOCK
    assert bundled == []  # nobody listens (the direct trainer): no bundle is made
    learner.on_policy = lambda bundle: None
    learner.publish_policy()
    assert bundled == [2 * POLICY_VERSION_BLOCK + 2]
    del learner.bundle
    learner.close()  # nothing above this version was issued: a resume goes on from it
    assert run.last_policy_version() == 2 * POLICY_VERSION_BLOCK + 2
