"""``realvoice mix``: put effects and a music bed on a recording you already have."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from .options import EffectsOpt, MusicOpt, OutputOpt, parse_effect_options

if TYPE_CHECKING:
    import numpy as np  # only for annotations: the command loads the DSP stack when it runs

console = Console()


def mix(
    voice: Annotated[Path, typer.Argument(help="The voice recording (WAV, MP3, FLAC, OGG, M4A...).")],
    output: OutputOpt = Path("mixed.wav"),
    music: MusicOpt = None,
    effects: EffectsOpt = None,
    music_db: Annotated[float, typer.Option(help="Music level in the gaps, in LU relative to the voice.")] = -15.0,
    duck_db: Annotated[float, typer.Option(help="How much further the music dips while the voice speaks, dB.")] = -12.0,
) -> None:
    """Add studio effects and background music (ducked under the voice) to a recording."""
    from ..audio import decode, encode, loudness_lufs
    from ..config import Settings
    from ..errors import RealVoiceError
    from ..mix import apply_effects, mix_music, parse_effects, true_peak_dbtp

    settings = Settings()
    try:
        chain = parse_effects(parse_effect_options(effects or []))
        track = decode(voice, max_bytes=settings.max_upload_bytes, max_seconds=settings.max_sample_seconds * 6)
        audio, sr = apply_effects(track.samples, track.sample_rate, chain), track.sample_rate
        if music:
            audio = mix_music(
                audio, sr, music, music_db=music_db, duck_db=duck_db, cache_dir=settings.cache_dir / "music"
            ).audio
        audio, tags = _keep_provenance(voice, track, audio, sr, passes=2 if music else 1)
        encode(output, audio, sr, tags)
    except RealVoiceError as exc:
        console.print(f"[red]error:[/red] {exc.message} ({exc.code})")
        raise typer.Exit(2) from None
    console.print(
        f"[green]wrote[/green] {output}  ({len(audio) / sr:.1f} s, {loudness_lufs(audio, sr):.1f} LUFS, "
        f"true peak {true_peak_dbtp(audio, sr):.1f} dBTP; effects: {', '.join(chain) or 'none'}; "
        f"music: {music or 'none'})"
    )


def _keep_provenance(
    source: Path, track, audio: np.ndarray, sr: int, *, passes: int
) -> tuple[np.ndarray, dict[str, str] | None]:
    """Speech realvoice made stays marked after the mix (marked again, its tag kept); a recording of a
    person is left unmarked, since a watermark says "generated" and a real recording is not."""
    from ..provenance import ProvenanceTag, Stamp, Watermarker, read_tag

    if not Watermarker.load().detect(track.samples, track.sample_rate).watermarked:
        return audio, None
    tag = read_tag(source) or ProvenanceTag("realvoice", "unknown", ProvenanceTag.for_voice("").created)
    return Stamp(tag).mark(audio, sr, passes=passes), tag.fields()
