"""What one upload may cost to decode and keep, given what its owner has.

Decoding cost follows pixels, not bytes: a 48-byte GIF can claim a 6324x6324
screen that takes seconds to decode. So an upload's pixels (width x height,
summed from the headers before anything is decoded) are held to a budget per
upload and, with the owner's other datasets, per user; the bytes stored for a
user are held to a budget too. No Django here: the service measures the use.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganweb.datasets.archives import Rejected
from ganweb.datasets.limits import Limits, human_bytes


@dataclass(frozen=True)
class Budget:
    limits: Limits
    used_pixels: int = 0  # by the owner's other datasets
    used_bytes: int = 0

    def check_pixels(self, pixels: int) -> None:
        """Rejected when ``pixels`` of this upload are over either budget."""
        upload, user = self.limits.upload_pixels, self.limits.user_pixels
        if upload is not None and pixels > upload:
            raise Rejected(
                f"too many pixels to decode: the images hold {pixels:,} pixels "
                f"(width x height), over the limit of {upload:,} for one upload"
            )
        if user is not None and self.used_pixels + pixels > user:
            raise Rejected(
                f"too many pixels for your account: this upload holds {pixels:,} "
                f"pixels and your other datasets {self.used_pixels:,}, over your "
                f"limit of {user:,}; delete a dataset to make room"
            )

    def check_bytes(self, stored: int) -> None:
        """Rejected when ``stored`` bytes for this upload are over the user's."""
        user = self.limits.user_bytes
        if user is not None and self.used_bytes + stored > user:
            raise Rejected(
                f"too much stored for your account: this upload needs "
                f"{human_bytes(stored)} and your other datasets hold "
                f"{human_bytes(self.used_bytes)}, over your limit of "
                f"{human_bytes(user)}; delete a dataset to make room"
            )
