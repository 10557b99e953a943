"""The run directory's clock: a resumed run's rows go on from the wall time recorded."""
import csv

from t3d_ros.training.run_dir import TAIL_BYTES, RunDirectory, read_csv


def log_episode(run: RunDirectory) -> None:
    run.log_episode(env_steps=10, updates=5, policy_version=1, actor_id='robot_0',
                    episode_return=-1.0, episode_length=10)


def test_a_resumed_run_goes_on_from_the_last_wall_time_recorded(tmp_path):
    path = tmp_path / 'run'
    first = RunDirectory(path, tensorboard=False)
    log_episode(first)
    first.close()
    with open(path / 'metrics.csv', 'a', newline='') as handle:  # a long run before the crash
        rows = csv.writer(handle)
        for second in range(1, 2 * TAIL_BYTES // 30):
            rows.writerow([f'{600.0 + second:.3f}', 10, 5, 1, 'robot_0', -1.0, 10])
    last = 600.0 + 2 * TAIL_BYTES // 30 - 1
    resumed = RunDirectory(path, tensorboard=False)
    log_episode(resumed)
    resumed.log_evaluation(env_steps=10, updates=5, returns=[-1.0])
    resumed.close()
    wall_time = read_csv(path / 'metrics.csv')['wall_time_s']
    assert last <= wall_time[-1] < last + 60
    assert last <= read_csv(path / 'evaluations.csv')['wall_time_s'][-1] < last + 60


def test_the_evaluations_count_too_and_a_new_run_starts_from_0(tmp_path):
    path = tmp_path / 'run'
    fresh = RunDirectory(path, tensorboard=False)
    log_episode(fresh)
    fresh.close()
    assert read_csv(path / 'metrics.csv')['wall_time_s'][0] < 60
    (path / 'evaluations.csv').write_text(
        'wall_time_s,env_steps,updates,mean_return,std_return,episodes\n'
        '900.000,10,5,-1,0,10\n')
    resumed = RunDirectory(path, tensorboard=False)
    log_episode(resumed)
    resumed.close()
    assert 900.0 <= read_csv(path / 'metrics.csv')['wall_time_s'][-1] < 960.0
