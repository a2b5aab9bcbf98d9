"""A recording's measurements on Kokoro's frame grids: trimmed level, DTW durations, pitch, energy."""

from __future__ import annotations

import numpy as np

from .config import F0_HOP, HOP, SR


def trim_and_normalise(audio: np.ndarray, top_db: float = 40.0, margin_s: float = 0.1) -> np.ndarray:
    """The recording without its leading and trailing silence, centred, peak at 0.5."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size == 0:
        return audio
    frame = 480
    n = max(1, len(audio) // frame)
    e = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(e / (e.max() + 1e-12) + 1e-12)
    on = np.where(db > -top_db)[0]
    if len(on):
        m = int(margin_s * SR)
        a, b = max(0, on[0] * frame - m), min(len(audio), (on[-1] + 1) * frame + m)
        audio = audio[a:b]
    audio = audio - audio.mean()
    pk = np.abs(audio).max()
    return (audio / pk * 0.5).astype(np.float32) if pk > 0 else audio


def _mfcc40(audio: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    import librosa

    m = librosa.feature.mfcc(
        y=audio, sr=SR, n_mfcc=n_mfcc, n_fft=2048, hop_length=HOP, win_length=1200, n_mels=64, fmax=8000
    )
    m = m[1:]  # drop c0 (level)
    m = (m - m.mean(1, keepdims=True)) / (m.std(1, keepdims=True) + 1e-5)
    return m


def _dtw_path(A: np.ndarray, B: np.ndarray) -> list[tuple[int, int]]:
    """Plain DTW (steps (1,0),(0,1),(1,1)) on Euclidean distances; returns [(i, j), ...]."""
    C = np.sqrt(np.maximum(((A[:, :, None] - B[:, None, :]) ** 2).sum(0), 0))
    n, m = C.shape
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0
    for i in range(1, n + 1):
        row = C[i - 1]
        # D[i, j] = row[j-1] + min(D[i-1, j], D[i-1, j-1], D[i, j-1]); the last term needs a scan
        best = np.minimum(D[i - 1, 1:], D[i - 1, :-1]) + row
        # left-to-right recurrence D[i, j] = min(best[j], D[i, j-1] + row[j])
        acc = np.empty(m)
        prev = np.inf
        for j in range(m):
            v = best[j]
            w = prev + row[j]
            prev = v if v < w else w
            acc[j] = prev
        D[i, 1:] = acc
    i, j, path = n, m, []
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        k = np.argmin((D[i - 1, j - 1], D[i - 1, j], D[i, j - 1]))
        i, j = (i - 1, j - 1) if k == 0 else ((i - 1, j) if k == 1 else (i, j - 1))
    return path[::-1]


def dtw_durations(real_audio: np.ndarray, synth_audio: np.ndarray, pred_dur: np.ndarray, n_real: int) -> np.ndarray:
    """Real 40 Hz frames per token from DTW of normalised MFCCs (real vs synthesis)."""

    A = _mfcc40(synth_audio)[:, : int(pred_dur.sum())]
    B = _mfcc40(real_audio)[:, :n_real]
    if B.shape[1] < n_real:
        B = np.pad(B, ((0, 0), (0, n_real - B.shape[1])), mode="edge")
    if A.shape[1] < pred_dur.sum():
        A = np.pad(A, ((0, 0), (0, int(pred_dur.sum()) - A.shape[1])), mode="edge")
    wp = _dtw_path(A, B)
    tok_of_synth = np.repeat(np.arange(len(pred_dur)), pred_dur)
    first = np.full(n_real, -1)
    for i, j in wp:
        if first[j] < 0 or i < first[j]:
            first[j] = i
    tok = tok_of_synth[np.clip(first, 0, len(tok_of_synth) - 1)]
    tok = np.maximum.accumulate(tok)
    dur = np.bincount(tok, minlength=len(pred_dur)).astype(np.int64)
    # every token >= 1 frame, total unchanged: take frames from the longest neighbours
    while (dur == 0).any():
        z = int(np.where(dur == 0)[0][0])
        lo, hi = max(0, z - 3), min(len(dur), z + 4)
        donor = lo + int(np.argmax(dur[lo:hi]))
        if dur[donor] <= 1:
            donor = int(np.argmax(dur))
        dur[donor] -= 1
        dur[z] += 1
    return dur


def real_f0(audio: np.ndarray, n80: int) -> np.ndarray:
    """The recording's pitch in Hz on Kokoro's 80 Hz frame grid (frame i at i x 12.5 ms), 0 = unvoiced.

    Praat's autocorrelation tracker, as the analysis uses: WORLD's dio and harvest both read a low
    male voice (Piper "joe", 87-93 Hz in Praat) an octave or a half too high (110-184 Hz), and the
    decoder, teacher-forced with that pitch, learned the wrong voice.
    """
    import parselmouth

    pitch = parselmouth.Sound(np.asarray(audio, np.float64), sampling_frequency=SR).to_pitch_ac(
        time_step=F0_HOP / SR, pitch_floor=60.0, pitch_ceiling=600.0
    )
    values = pitch.selected_array["frequency"]
    frames = np.rint((pitch.xs() * SR) / F0_HOP).astype(int)
    f0 = np.zeros(n80, np.float32)
    keep = (frames >= 0) & (frames < n80)
    f0[frames[keep]] = values[keep]
    return f0


_MEL_N: np.ndarray | None = None


def real_energy(audio: np.ndarray, n80: int) -> np.ndarray:
    """N = ln || mel power + 1e-5 ||_2 over 80 HTK mel bands (n_fft 2048, win 1200, hop 300)."""
    import librosa

    global _MEL_N
    if _MEL_N is None:
        _MEL_N = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=80, htk=True, norm=None)
    S = (
        np.abs(librosa.stft(audio, n_fft=2048, hop_length=F0_HOP, win_length=1200, center=True, pad_mode="reflect"))
        ** 2
    )
    mel = _MEL_N @ S
    N = np.log(np.linalg.norm(mel + 1e-5, axis=0))
    N = N[:n80]
    if len(N) < n80:
        N = np.pad(N, (0, n80 - len(N)), mode="edge")
    return N.astype(np.float32)


def speech_median_f0(audio: np.ndarray) -> float:
    """Median pitch of the voiced frames in Hz (0 where nothing is voiced)."""
    f0 = real_f0(audio, len(audio) // F0_HOP + 1)
    return float(np.median(f0[f0 > 0])) if (f0 > 0).any() else 0.0
