"""The direct trainer: TD3 on a task's gymnasium env in one process, no ROS.

It is the reference the ROS system is measured against and the fastest way to check that a
task and the TD3 core learn. It drives the same Learner core as the learner node, so the
update-to-data ratio, episode metrics, checkpoints and bundles are the same.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.exploration import explore, random_unit_action
from t3d_ros.training.evaluate import evaluate
from t3d_ros.training.learner import Learner, LearnerOptions
from t3d_ros.training.run_dir import RunDirectory, plot_learning_curve


@dataclass
class DirectResult:
    env_steps: int
    updates: int
    wall_time_s: float
    final_returns: list[float]
    """Returns of the last evaluation."""
    steps_to_threshold: int | None
    """Env steps when the target was reached (None: never)."""
    time_to_threshold_s: float | None
    updates_per_s: float

    @property
    def final_mean_return(self) -> float:
        return float(np.mean(self.final_returns))


def train_direct(task_name: str, config: TD3Config, total_steps: int,
                 options: LearnerOptions = LearnerOptions(), run_dir: str | None = None,
                 eval_every: int = 5000, eval_episodes: int = 10,
                 target_return: float | None = None, progress=None,
                 target_on_training_episodes: bool = False) -> DirectResult:
    """Train for ``total_steps`` env steps (or until an evaluation reaches ``target_return``).

    With ``target_on_training_episodes`` the target is checked after each episode against the
    mean return of the last 10 training episodes instead, as training over ROS does.
    ``progress(stats: dict)`` is called after each evaluation.
    """
    task = make_task(task_name)
    run = RunDirectory(run_dir) if run_dir else None
    learner = Learner(task, config, options, run)
    if run is not None:
        run.write_config({'task': task_name, 'total_steps': total_steps, 'td3': config.to_dict(),
                          'learner': options.__dict__})
    env = TaskEnv(task)
    noise_rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(2,)))
    agent, scaler = learner.agent, learner.agent.scaler
    start = time.monotonic()
    update_time = 0.0
    steps_to_threshold = time_to_threshold = None
    evaluation = [float('nan')]
    obs, _ = env.reset(seed=config.seed)
    step = 0
    while step < total_steps:
        if step < config.start_steps:
            unit = random_unit_action(task.num_joints, noise_rng)
        else:
            unit = explore(agent.policy.unit_action(obs), config.exploration_noise, noise_rng)
        action = scaler.from_unit(unit)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        learner.insert('direct', obs[None], action[None], np.array([reward]), next_obs[None],
                       np.array([terminated]), np.array([truncated]))
        step += 1
        tick = time.monotonic()
        learner.run_updates()
        update_time += time.monotonic() - tick
        if (target_on_training_episodes and (terminated or truncated) and target_return is not None
                and np.mean(learner.recent_returns) >= target_return):
            steps_to_threshold, time_to_threshold = step, time.monotonic() - start
            break
        obs = env.reset()[0] if terminated or truncated else next_obs
        if step % eval_every == 0 or step == total_steps:
            evaluation = evaluate(agent.policy, task, eval_episodes, config.seed)
            if run is not None:
                run.log_evaluation(step, learner.updates, evaluation)
            if progress is not None:
                progress(dict(learner.stats(), eval_mean_return=float(np.mean(evaluation)),
                              updates_per_s=learner.updates / max(update_time, 1e-9)))
            if (target_return is not None and not target_on_training_episodes
                    and np.mean(evaluation) >= target_return):
                steps_to_threshold, time_to_threshold = step, time.monotonic() - start
                break
    env.close()
    learner.close()
    if run is not None:
        plot_learning_curve(run, f'TD3 on {task_name} (direct, one process)',
                            threshold=task.reward_threshold)
    return DirectResult(step, learner.updates, time.monotonic() - start,
                        evaluation, steps_to_threshold, time_to_threshold,
                        learner.updates / max(update_time, 1e-9))
