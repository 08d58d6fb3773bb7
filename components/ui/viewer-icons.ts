import { svg } from "lit";

// Inline SVG, not emoji or symbol characters: those render as empty boxes
// wherever the font lacks them (kiosks, Linux without emoji fonts). Shapes
// that do not overlap share one path (drawn the same: one opaque stroke).
const icon = (path: ReturnType<typeof svg>) =>
  svg`
    <svg viewBox="0 0 24 24" width="18" height="18" fill="none"
      stroke="currentColor"
      stroke-width="2" stroke-linecap="round" stroke-linejoin="round"
      aria-hidden="true">${path}</svg>
  `;

export const soundOnIcon = icon(
  svg`
    <path d="M4 9h4l5-4v14l-5-4H4zM16 9a4 4 0 0 1 0 6M18.5 6.5a8 8 0 0 1 0 11" />
  `,
);
export const soundOffIcon = icon(
  svg`
    <path d="M4 9h4l5-4v14l-5-4H4zM17 9l5 6M22 9l-5 6" />
  `,
);
export const fullscreenIcon = icon(
  svg`
    <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" />
  `,
);
export const pictureInPictureIcon = icon(
  svg`
    <rect x="3" y="5" width="18" height="14" rx="2" />
    <rect x="12" y="12" width="7" height="5" rx="1" />
  `,
);
