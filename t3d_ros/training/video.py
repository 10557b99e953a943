"""
Evaluation episodes on film: ``t3d-ros eval POLICY --video out.mp4`` (or ``.gif``, or ``.png``).

Headless: PyBullet's CPU renderer (``envs/camera.py``). One frame after each reset and after
each control step, at the control rate; the goal circled, a caption with the episode and its
return so far. ``.mp4`` and ``.gif`` are written by ``imageio`` (and ``imageio-ffmpeg`` for
mp4), the optional video extra (``requirements-video.txt``); ``.png`` is a strip of
``STRIP_FRAMES`` frames spread over the recording, in rows of ``STRIP_COLUMNS``, for
documentation, with Pillow alone.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

from t3d_ros.envs.camera import Camera
from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.tasks.base import Task

VIDEO_EXTRA = 'requirements-video.txt'
SUFFIXES = ('.mp4', '.gif', '.png')
STRIP_FRAMES = 6
STRIP_COLUMNS = 3
WIDTH, HEIGHT = 480, 320
"""Frame size in pixels (a multiple of 16 each, as video encoders want)."""
GOAL_RADIUS = 8
GOAL_COLOUR = (220, 40, 40)
CAPTION_SIZE = 15


class VideoError(ValueError):
    """A video that cannot be written: an unknown file type, or the video extra is missing."""


class EpisodeVideo:
    """
    Record the episodes of ``evaluate_episodes(..., watch=video)`` into ``path``.

    ``episodes`` is how many will be recorded (for the caption and the strip's spacing). The
    writer opens here, so a missing extra is refused before any episode runs. Use as a context
    manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike, task: Task, episodes: int):
        self.path = Path(path)
        self.task, self.episodes = task, episodes
        self.frames = 0
        """Frames recorded so far."""
        self._camera: Camera | None = None
        self._font = ImageFont.truetype(font_manager.findfont('DejaVu Sans'), CAPTION_SIZE)
        suffix = self.path.suffix.lower()
        if suffix not in SUFFIXES:
            raise VideoError(f'--video {self.path}: the file type must be one of '
                             f'{", ".join(SUFFIXES)}')
        self._strip: list[np.ndarray] | None = [] if suffix == '.png' else None
        self._strip_every = math.ceil(episodes * (task.max_episode_steps + 1) / STRIP_FRAMES)
        self._writer = None if suffix == '.png' else _open_writer(self.path, 1 / task.control_dt)

    def __call__(self, env: TaskEnv, episode: int, step: int, episode_return: float) -> None:
        """Record the picture of ``env`` now, the ``step`` of ``episode`` (0-based)."""
        if self._camera is None:  # framed on the first episode's start
            self._camera = Camera(env.robot, WIDTH, HEIGHT)
        frame = self._annotate(self._camera.render(), env, episode, step, episode_return)
        if self._strip is None:
            self._writer.append_data(frame)
        elif self.frames % self._strip_every == 0 and len(self._strip) < STRIP_FRAMES:
            self._strip.append(frame)
        self.frames += 1

    def _annotate(self, frame: np.ndarray, env: TaskEnv, episode: int, step: int,
                  episode_return: float) -> np.ndarray:
        image = Image.fromarray(frame)
        draw = ImageDraw.Draw(image, 'RGBA')
        goal = env.robot.shown_goal()
        pixel = None if goal is None else self._camera.project(goal)
        if pixel is not None:
            x, y = pixel
            draw.ellipse((x - GOAL_RADIUS, y - GOAL_RADIUS, x + GOAL_RADIUS, y + GOAL_RADIUS),
                         outline=GOAL_COLOUR, width=2)
        caption = (f'{self.task.name}  episode {episode + 1}/{self.episodes}  step {step}  '
                   f'return {episode_return:.2f}')
        box = draw.textbbox((6, 4), caption, font=self._font)
        draw.rectangle((box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2), fill=(255, 255, 255, 200))
        draw.text((6, 4), caption, fill=(20, 20, 20), font=self._font)
        return np.asarray(image)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        elif self._strip:
            blank = np.full_like(self._strip[0], 255)
            frames = self._strip + [blank] * (-len(self._strip) % STRIP_COLUMNS)
            rows = [np.concatenate(frames[start:start + STRIP_COLUMNS], axis=1)
                    for start in range(0, len(frames), STRIP_COLUMNS)]
            Image.fromarray(np.concatenate(rows, axis=0)).save(self.path)
            self._strip = []

    def __enter__(self) -> EpisodeVideo:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _open_writer(path: Path, fps: float):
    """Return an imageio writer of ``path`` at ``fps`` frames per second."""
    needs = 'imageio and imageio-ffmpeg' if path.suffix.lower() == '.mp4' else 'imageio'
    try:
        import imageio.v2 as imageio
        if path.suffix.lower() == '.mp4':
            import imageio_ffmpeg  # noqa: F401  (imageio's mp4 writer runs its ffmpeg)
    except ImportError as error:
        raise VideoError(f'--video {path}: needs {needs}, the optional video extra: pip install '
                         f'-r {VIDEO_EXTRA} ({error})') from None
    if path.suffix.lower() == '.gif':
        return imageio.get_writer(path, mode='I', duration=1000 / fps, loop=0)
    return imageio.get_writer(path, fps=fps, macro_block_size=16)
