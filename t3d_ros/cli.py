"""
`t3d-ros train | deploy | eval | export | bench`.

The node graph as processes over DDS, without `ros2 launch` (or the one-process direct trainer with
`train --direct`).
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import yaml

from t3d_ros.graph.supervisor import sigterm_as_interrupt
from t3d_ros.tasks import make_task, plugin_task_names, task_names

TASK_HELP = (f'a built-in task ({", ".join(task_names())}), a task of an installed package ('
             f'{", ".join(plugin_task_names()) or "none installed"}) or a task file (.yaml)')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='t3d-ros', description=__doc__)
    commands = parser.add_subparsers(dest='command', required=True)
    _add_train(commands.add_parser('train', help='train a policy (sim, actors, learner)'))
    _add_deploy(commands.add_parser('deploy', help='drive a robot with a policy bundle'))
    _add_eval(commands.add_parser('eval', help="evaluate a policy bundle on its task's env"))
    _add_export(commands.add_parser('export', help='write a policy bundle for other runtimes'))
    _add_bench(commands.add_parser('bench', help='measure speed against in-run references'))
    args = parser.parse_args(argv)
    try:
        with sigterm_as_interrupt():
            return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f't3d-ros {args.command}: {error}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'\nt3d-ros {args.command}: interrupted', file=sys.stderr)
        return 130


# --- train ------------------------------------------------------------------------------

def _add_train(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--task', default='reacher', help=f'{TASK_HELP}; default: reacher')
    parser.add_argument('--num-actors', type=int, default=1, help='robots (sim + actor each)')
    parser.add_argument('--robots-per-process', type=int, default=0, metavar='R',
                        help='robots whose sims share a process (their actors share another); '
                             '0 (default): every robot in one sim and one actor process on 2-4 '
                             'cores, a pair of processes per 2 more cores; 1: a process per node')
    parser.add_argument('--config', action='append', default=[], metavar='FILE',
                        help='extra ROS 2 params file(s), after config/train.yaml and '
                             'config/<task>.yaml (a path, or a name in the config folder)')
    parser.add_argument('--set', action='append', default=[], metavar='NODE.PARAM=VALUE',
                        help='override a parameter of the learner, sim or actor nodes, e.g. '
                             'learner.batch_size=128 (value parsed as YAML)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--run-dir', help='default: runs/<task>-<date>-<time>')
    parser.add_argument('--steps', type=int, default=100_000, help='env step budget')
    parser.add_argument('--target-return', type=float,
                        help='stop once the mean of the last 10 training episodes reaches it')
    parser.add_argument('--max-minutes', type=float, help='wall-clock budget')
    parser.add_argument('--eval-episodes', type=int, default=10)
    parser.add_argument('--use-sim-time', action='store_true',
                        help='every node runs on /clock, which the sim publishes (one robot)')
    parser.add_argument('--direct', action='store_true',
                        help='one process, no ROS: the same robot, actor core and learner (the '
                             'reference)')
    parser.set_defaults(run=_train)


def _train(args) -> int:
    name = Path(args.task).stem
    run_dir = Path(args.run_dir or Path('runs') / f'{name}-{datetime.now():%Y%m%d-%H%M%S}')
    overrides = _parse_sets(args.set)
    if args.direct:
        return _train_direct(args, run_dir, overrides)
    from t3d_ros.graph.training import train_over_ros

    outcome = train_over_ros(args.task, args.num_actors, args.config, args.seed, run_dir,
                             overrides, args.steps, args.target_return, args.max_minutes,
                             progress=_ProgressLine(), use_sim_time=args.use_sim_time,
                             robots_per_process=args.robots_per_process)
    if outcome.failure:
        print(f'\n{outcome.failure}', file=sys.stderr)
        return 1
    _finish(args.task, run_dir, outcome.env_steps, outcome.updates, args.eval_episodes,
            args.seed, outcome.wall_time_s, 'over ROS 2')
    return 130 if outcome.interrupted else 0


def _train_direct(args, run_dir: Path, overrides: dict) -> int:
    import torch

    from t3d_ros.acting.core import ActorSettings
    from t3d_ros.graph.bringup import train_graph
    from t3d_ros.training.direct import train_direct
    from t3d_ros.training.learner import learner_settings

    # The parameters the learner and actor nodes would start with: same files, same overrides.
    learner, _, actor = train_graph(args.task, 1, args.config, args.seed, overrides=overrides)
    params = learner.resolved_parameters()
    torch.set_num_threads(int(params.get('torch_threads', 1)))
    config, options = learner_settings(params)
    progress = _ProgressLine()
    result = train_direct(args.task, config, args.steps, options,
                          ActorSettings.from_parameters(actor.resolved_parameters()), str(run_dir),
                          target_return=args.target_return,
                          progress=lambda stats: progress(stats, args.steps))
    print()
    _finish(args.task, run_dir, result.env_steps, result.updates, args.eval_episodes,
            args.seed, result.wall_time_s, 'direct, one process', result.final_returns)
    return 0


def _finish(task_name: str, run_dir: Path, env_steps: int, updates: int, episodes: int,
            seed: int, wall_time_s: float, how: str, returns: list[float] | None = None) -> None:
    """
    Evaluate the saved policy, plot the learning curve, and say where everything is.

    The evaluation is skipped where ``returns`` has it already and the task has no goal, hence
    no success rate, to count.
    """
    from t3d_ros.bundle.policy_bundle import PolicyBundle
    from t3d_ros.training.evaluate import Evaluation, evaluate_episodes
    from t3d_ros.training.run_dir import RunDirectory, plot_learning_curve

    run = RunDirectory(run_dir, tensorboard=False)
    if not run.policy_file.exists():
        print(f'no policy was saved in {run_dir}', file=sys.stderr)
        return
    task = make_task(task_name)
    if returns is None or task.has_goal:
        evaluation = evaluate_episodes(PolicyBundle.load(run.policy_file).make_policy(), task,
                                       episodes, seed)
        run.log_evaluation(env_steps, updates, evaluation.returns)
    else:
        evaluation = Evaluation(returns, None)
    plot_learning_curve(run, f'TD3 on {task.name} ({how})', threshold=task.reward_threshold)
    run.close()
    print(f'{env_steps:,} env steps, {updates:,} updates in {wall_time_s / 60:.1f} min\n'
          f'final evaluation over {len(evaluation.returns)} episodes: '
          f'{"".join(_summary(task, evaluation))}\n'
          f'run directory: {run_dir}\n  policy: {run.policy_file}\n'
          f'  learning curve: {run.curve_file}\n  metrics: {run.metrics_file}')


def _summary(task, evaluation) -> tuple[str, str]:
    """Return an evaluation's mean return, and its success rate and the task's solved level."""
    import numpy as np

    returns = evaluation.returns
    extras = ''
    if evaluation.success_rate is not None:
        extras += f'; success rate {100 * evaluation.success_rate:.0f} %'
    if task.reward_threshold is not None:
        extras += f'; solved at >= {task.reward_threshold:g}'
    return f'{np.mean(returns):.2f} +- {np.std(returns):.2f}', extras


def _parse_sets(settings: list[str]) -> dict[str, dict]:
    overrides: dict[str, dict] = {}
    for setting in settings:
        key, sep, value = setting.partition('=')
        node, dot, name = key.partition('.')
        if not (sep and dot and name):
            raise ValueError(f'--set takes NODE.PARAM=VALUE, not {setting!r}')
        overrides.setdefault(node, {})[name] = yaml.safe_load(value)
    return overrides


class _ProgressLine:
    """One updating status line (a new line every 10 s when not on a terminal)."""

    def __init__(self):
        self.tty = sys.stdout.isatty()
        self.last = 0.0

    def __call__(self, stats: dict, budget: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < 10:
            return
        self.last = now
        line = (f"env steps {int(stats.get('env_steps', 0)):,}/{budget:,} | episodes "
                f"{int(stats.get('episodes', 0))} | recent return "
                f"{float(stats.get('recent_return', float('nan'))):.1f} | updates "
                f"{int(stats.get('updates', 0)):,} ({float(stats.get('updates_per_s', 0)):.0f}/s)"
                f" | policy v{int(stats.get('policy_version', 0))}")
        print(f'\r{line:<110}' if self.tty else line, end='' if self.tty else '\n', flush=True)


# --- deploy -----------------------------------------------------------------------------

def _add_deploy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('policy', help='policy bundle (.safetensors)')
    parser.add_argument('--task', help=f"{TASK_HELP}; default: the bundle's task")
    parser.add_argument('--with-sim', action='store_true',
                        help='a realtime sim node stands in for the robot')
    parser.add_argument('--namespace', default='', help="the robot's namespace")
    parser.add_argument('--config', action='append', default=[], metavar='FILE')
    parser.add_argument('--set', action='append', default=[], metavar='NODE.PARAM=VALUE')
    parser.add_argument('--log-dir', default='runs/deploy-logs')
    parser.add_argument('--use-sim-time', action='store_true',
                        help="every node runs on /clock (the sim's with --with-sim)")
    parser.set_defaults(run=_deploy)


def _deploy(args) -> int:
    from t3d_ros.graph.bringup import deploy_graph
    from t3d_ros.graph.supervisor import ProcessGroup

    overrides = _parse_sets(args.set)
    # No lifecycle manager here: the actor configures (checks the bundle) and activates itself.
    overrides.setdefault('actor', {}).setdefault('autostart', True)
    graph = deploy_graph(args.task, args.policy, args.with_sim, args.namespace, args.config,
                         overrides)
    task = _check_deployment(args.policy, graph)
    group = ProcessGroup(graph, args.log_dir)
    print(f'deploying {args.policy} ({task.name}); logs in {args.log_dir}; Ctrl-C stops')
    try:
        group.start()
        while (exited := group.supervise()) is None:
            time.sleep(0.2)
        print(f'{exited.label} exited with status {exited.process.returncode}:\n'
              f'{exited.tail()}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        group.stop()


def _check_deployment(policy_file: str, graph):
    """
    Refuse a bundle that does not match the actor, before any node starts; return the task.

    The actor's configure runs the same check (``bundle/deployment.py``) again. The warnings
    (e.g. a control rate other than the trained one) are printed.
    """
    from t3d_ros.bundle.deployment import check_deployment

    params = next(spec for spec in graph if spec.executable == 'actor_node').resolved_parameters()
    task = make_task(params['task'])
    _, warnings = check_deployment(policy_file, task, params)
    for warning in warnings:
        print(f'warning: {warning}', file=sys.stderr)
    return task


# --- eval -------------------------------------------------------------------------------

def _add_eval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('policy', help='policy bundle (.safetensors)')
    parser.add_argument('--task', help=f"{TASK_HELP}; default: the bundle's task")
    parser.add_argument('--episodes', type=int, default=10)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--video', metavar='FILE',
                        help='record the episodes: FILE.mp4 or FILE.gif (the video extra, '
                             'requirements-video.txt), or FILE.png, a strip of frames')
    parser.set_defaults(run=_eval)


def _eval(args) -> int:
    from t3d_ros.bundle.policy_bundle import PolicyBundle
    from t3d_ros.training.evaluate import evaluate_episodes

    bundle = PolicyBundle.load(args.policy)
    task = make_task(args.task) if args.task else bundle.make_task()
    bundle.check_matches(task)
    if args.video:
        evaluation = _evaluate_on_video(bundle.make_policy(), task, args)
    else:
        evaluation = evaluate_episodes(bundle.make_policy(), task, args.episodes, args.seed)
    mean, extras = _summary(task, evaluation)
    print(f'{task.name}: mean return {mean} over {args.episodes} episodes (policy '
          f'v{bundle.policy_version}, {bundle.update_step} updates{extras})')
    return 0


def _evaluate_on_video(policy, task, args):
    """Evaluate as ``_eval`` does, recording the episodes into ``args.video``."""
    from t3d_ros.training.evaluate import evaluate_episodes
    from t3d_ros.training.video import EpisodeVideo

    with EpisodeVideo(args.video, task, args.episodes) as video:
        evaluation = evaluate_episodes(policy, task, args.episodes, args.seed, watch=video)
    print(f'video: {args.video} ({video.frames} frames)')
    return evaluation


# --- export -----------------------------------------------------------------------------

def _add_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('policy', help='policy bundle (.safetensors)')
    parser.add_argument('--onnx', metavar='FILE', required=True,
                        help='the actor as an ONNX model: observation in, command in the '
                             "task's units out, the bundle's metadata as its metadata_props "
                             '(the export extra, requirements-onnx.txt)')
    parser.set_defaults(run=_export)


def _export(args) -> int:
    from t3d_ros.bundle.onnx_export import INPUT, OUTPUT, export_onnx
    from t3d_ros.bundle.policy_bundle import PolicyBundle

    bundle = PolicyBundle.load(args.policy)
    export_onnx(bundle, args.onnx)
    print(f'{args.onnx}: {INPUT} float32 (batch, {bundle.obs_dim}) -> {OUTPUT} float64 (batch, '
          f'{bundle.act_dim}) {bundle.interface} commands for {list(bundle.joint_names)} '
          f'(task {bundle.task}, policy v{bundle.policy_version})')
    return 0


# --- bench ------------------------------------------------------------------------------

BENCH_NAMES = ('learner_updates', 'learner_updates_64', 'ros_loop', 'robots_per_process',
               'latency', 'policy_propagation', 'time_to_threshold', 'learning_curve')


def _add_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', default='bench.json', help='results JSON')
    parser.add_argument('--quick', action='store_true',
                        help='shorter runs, no time-to-threshold or learning-curve run (a smoke '
                             'check)')
    parser.add_argument('--only', action='append', choices=BENCH_NAMES, metavar='NAME',
                        help=f'run only this measurement (repeatable): {", ".join(BENCH_NAMES)}')
    parser.set_defaults(run=_bench)


def _bench(args) -> int:
    from t3d_ros.bench import failures, run_benchmarks

    try:
        failed = failures(run_benchmarks(args.out, quick=args.quick, only=args.only))
    except KeyboardInterrupt:
        print(f'\ninterrupted; the results so far are in {args.out}', file=sys.stderr)
        return 130
    for name, error in failed.items():
        print(f'{name} failed: {error}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    raise SystemExit(main())
