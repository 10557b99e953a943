"""
The direct trainer: TD3 on a task's gymnasium env in one process, no ROS.

It is the reference the ROS system is measured against and the fastest way to check that a
task and the TD3 core learn. It runs the same cores as the nodes, in one loop: the sim core
(seeded initial states, physics), the actor core (goals, exploration, rewards, time limit),
joined in one process, and the Learner (update-to-data ratio, episode metrics, checkpoints,
bundles).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from t3d_ros.acting.core import ActorCore, ActorSettings
from t3d_ros.acting.transitions import TransitionBatch
from t3d_ros.envs.in_process import InProcessEpisodes
from t3d_ros.envs.sim_core import SimCore
from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
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
                 options: LearnerOptions = LearnerOptions(),
                 actor: ActorSettings = ActorSettings(), run_dir: str | None = None,
                 eval_every: int = 5000, eval_episodes: int = 10,
                 target_return: float | None = None, progress=None,
                 target_on_training_episodes: bool = False) -> DirectResult:
    """
    Train for ``total_steps`` env steps (or until an evaluation reaches ``target_return``).

    ``config`` and ``options`` are the learner node's settings, ``actor`` the actor node's;
    ``config.seed`` seeds the robot's initial states, the goals and the exploration.

    With ``target_on_training_episodes`` the target is checked after each episode against the
    mean return of the last 10 training episodes instead, as training over ROS does.
    ``progress(stats: dict)`` is called after each evaluation.
    """
    task = make_task(task_name)
    run = RunDirectory(run_dir) if run_dir else None
    learner = Learner(task, config, options, run)
    if run is not None:
        run.write_config({'task': task_name, 'total_steps': total_steps, 'td3': config.to_dict(),
                          'learner': options.__dict__, 'actor': actor.__dict__})
    sim = SimCore(task, config.seed)
    core = ActorCore(task, actor, config.seed)
    episodes = InProcessEpisodes(sim, core)
    agent = learner.agent

    start = time.monotonic()
    update_time = 0.0
    steps_to_threshold = time_to_threshold = None
    evaluation = [float('nan')]
    episodes.reset()
    step = 0
    while step < total_steps:
        transition = episodes.step(core.choose(episodes.obs, agent.policy))
        learner.insert(TransitionBatch.of([transition], 'direct',
                                          learner.counters['policy_version']))
        step += 1
        tick = time.monotonic()
        learner.run_updates()
        update_time += time.monotonic() - tick
        if (target_on_training_episodes and transition.done and target_return is not None
                and np.mean(learner.recent_returns) >= target_return):
            steps_to_threshold, time_to_threshold = step, time.monotonic() - start
            break
        if transition.done:
            episodes.reset()
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
    sim.close()
    learner.close()
    if run is not None:
        plot_learning_curve(run, f'TD3 on {task_name} (direct, one process)',
                            threshold=task.reward_threshold)
    return DirectResult(step, learner.updates, time.monotonic() - start,
                        evaluation, steps_to_threshold, time_to_threshold,
                        learner.updates / max(update_time, 1e-9))
