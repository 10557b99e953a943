"""
Stable-Baselines3's TD3 as a reference: what users would pick instead of t3d_ros.

Optional: ``pip install -r requirements-bench.txt`` installs stable-baselines3 (next to the
pinned CPU torch). Without it the SB3 rows of the table say how to get them.

- Update rate: SB3's ``TD3.train`` with the same network sizes and hyperparameters, fed the
  same replay memory's batches (through a stand-in for its replay buffer).
- Time to threshold: SB3's ``TD3.learn`` on the task's gymnasium env with the learner's and
  actor's settings (learning rate, batch, tau, gamma, policy delay, target noise, exploration
  noise as a fraction of each joint's half range, start steps, updates per step), judged as
  the direct trainer is: the mean return of the last 10 training episodes.
- Learning curve: ``train`` runs SB3's TD3 with those settings for a step budget, logging its
  episodes and its evaluations (the direct trainer's ``evaluate``) into a run directory.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from t3d_ros.td3.config import TD3Config
from t3d_ros.training.run_dir import RunDirectory

MISSING = 'stable-baselines3 not installed: pip install -r requirements-bench.txt'
"""What the SB3 rows say where stable-baselines3 is not installed."""
UPDATES_PER_CALL = 10
"""Gradient steps per ``TD3.train`` call timed: SB3's per-call bookkeeping shared out."""


def installed() -> bool:
    """Say whether stable-baselines3 can be imported."""
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


def _model(env, config: TD3Config, learning_starts: int = 0, gradient_steps: int = 1,
           action_noise=None, buffer_size: int = 1):
    from stable_baselines3 import TD3 as SB3TD3

    if config.actor_lr != config.critic_lr:
        raise ValueError('SB3 has one learning rate for the actor and the critics')
    return SB3TD3('MlpPolicy', env, learning_rate=config.actor_lr, buffer_size=buffer_size,
                  learning_starts=learning_starts, batch_size=config.batch_size, tau=config.tau,
                  gamma=config.gamma, train_freq=1, gradient_steps=gradient_steps,
                  action_noise=action_noise, policy_delay=config.policy_delay,
                  target_policy_noise=config.policy_noise, target_noise_clip=config.noise_clip,
                  policy_kwargs={'net_arch': list(config.hidden_sizes)}, seed=config.seed,
                  device='cpu', verbose=0)


def update_step(obs_dim: int, act_dim: int, config: TD3Config,
                sample: Callable[[int], object]) -> Callable[[], None]:
    """
    Make a call that runs ``UPDATES_PER_CALL`` of SB3's TD3 updates.

    The batches come from ``sample`` (``ReplayMemory.sample``: normalised actions, as SB3's
    buffer holds them).
    """
    import gymnasium as gym
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.type_aliases import ReplayBufferSamples

    class Spaces(gym.Env):
        observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        action_space = gym.spaces.Box(-1.0, 1.0, (act_dim,), np.float32)

    class Batches:
        """SB3's replay buffer interface over our memory."""

        def sample(self, batch_size, env=None):
            batch = sample(batch_size)
            return ReplayBufferSamples(batch.obs, batch.action, batch.next_obs,
                                       batch.terminated[:, None], batch.reward[:, None])

    model = _model(Spaces(), config)
    model.replay_buffer = Batches()
    model.set_logger(Logger(None, []))
    return lambda: model.train(gradient_steps=UPDATES_PER_CALL, batch_size=config.batch_size)


def _training_model(task_name: str, config: TD3Config, start_steps: int,
                    exploration_noise: float):
    """
    Return SB3's TD3 on the task's gymnasium env (in a ``Monitor``), and the env.

    The settings are the learner's and the actor's; the env is reset with the config's seed.
    """
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.noise import NormalActionNoise

    from t3d_ros.envs.task_env import TaskEnv

    env = Monitor(TaskEnv(task_name))
    env.reset(seed=config.seed)
    act_dim = env.action_space.shape[0]
    # SB3 adds the noise to the action in [-1, 1]: a fraction of each joint's half range.
    noise = NormalActionNoise(np.zeros(act_dim), exploration_noise * np.ones(act_dim))
    # SB3's learning_starts is both the random steps and the first update; ours are equal here.
    model = _model(env, config, learning_starts=start_steps,
                   gradient_steps=max(1, round(config.updates_per_step)), action_noise=noise,
                   buffer_size=config.replay_capacity)
    return model, env


def time_to_threshold(task_name: str, config: TD3Config, start_steps: int,
                      exploration_noise: float, max_steps: int, threshold: float) -> dict:
    """
    Train SB3's TD3 until the mean return of the last 10 training episodes reaches ``threshold``.

    Returns the seconds (from creating the env) and env steps it took; None for both if
    ``max_steps`` pass first.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    start = time.monotonic()
    model, env = _training_model(task_name, config, start_steps, exploration_noise)
    returns: list[float] = []
    reached: dict = {}

    class StopAtThreshold(BaseCallback):
        def _on_step(self) -> bool:
            for info in self.locals['infos']:
                if 'episode' in info:
                    returns.append(float(info['episode']['r']))
                    if np.mean(returns[-10:]) >= threshold:
                        reached.update(sb3_s=time.monotonic() - start,
                                       sb3_env_steps=self.num_timesteps)
                        return False
            return True

    model.learn(total_timesteps=max_steps, callback=StopAtThreshold())
    env.close()
    return {'sb3_s': reached.get('sb3_s'), 'sb3_env_steps': reached.get('sb3_env_steps'),
            'sb3_episodes': len(returns), 'sb3_total_s': time.monotonic() - start}


def train(task_name: str, config: TD3Config, start_steps: int, exploration_noise: float,
          total_steps: int, run: RunDirectory, eval_every: int, eval_episodes: int,
          on_evaluation: Callable[[int, int, list[float]], None] | None = None) -> dict:
    """
    Train SB3's TD3 for ``total_steps`` env steps, logged as the direct trainer logs its runs.

    Each training episode goes to ``run``'s metrics, and every ``eval_every`` env steps (and at
    the end) ``t3d_ros.training.evaluate`` runs SB3's deterministic policy for
    ``eval_episodes`` episodes, as the direct trainer evaluates, into its evaluations;
    ``on_evaluation(env_steps, updates, returns)`` hears of each. Returns the env steps,
    updates and seconds (from creating the env).
    """
    from stable_baselines3.common.callbacks import BaseCallback

    from t3d_ros.training.evaluate import evaluate

    start = time.monotonic()
    model, env = _training_model(task_name, config, start_steps, exploration_noise)
    task = env.unwrapped.task

    def policy(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)[0]

    class Log(BaseCallback):
        def _on_step(self) -> bool:
            steps, updates = self.num_timesteps, model._n_updates
            for info in self.locals['infos']:
                if 'episode' in info:
                    run.log_episode(steps, updates, 0, 'sb3', float(info['episode']['r']),
                                    int(info['episode']['l']))
            if steps % eval_every == 0 or steps == total_steps:
                returns = evaluate(policy, task, eval_episodes, config.seed)
                run.log_evaluation(steps, updates, returns)
                if on_evaluation is not None:
                    on_evaluation(steps, updates, returns)
            return True

    model.learn(total_timesteps=total_steps, callback=Log())
    env.close()
    return {'env_steps': model.num_timesteps, 'updates': model._n_updates,
            'wall_s': time.monotonic() - start}
