import { css } from "./static-css.ts";

export const viewerStyles = css`
  :host {
    display: block;
    position: relative;
    aspect-ratio: var(--live-aspect-ratio, 16 / 9);
    background: var(--live-background, #111);
    color: var(--live-color, #fff);
    font: var(--live-font, 14px/1.4 system-ui, sans-serif);
    border-radius: var(--live-radius, 8px);
    overflow: hidden;
    contain: content;
  }
  .stage,
  video,
  canvas {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
  }
  video,
  canvas {
    object-fit: var(--live-object-fit, contain);
  }
  [hidden] {
    display: none !important;
  }
  .overlay {
    position: absolute;
    inset: 0;
    display: flex;
    flex-flow: column;
    align-items: center;
    justify-content: center;
    gap: 12px;
    padding: 16px;
    text-align: center;
    background: var(--live-overlay-background, rgb(0 0 0 / 55%));
  }
  button {
    padding: 8px 16px;
  }
  .controls {
    position: absolute;
    right: 8px;
    bottom: 8px;
    display: flex;
    gap: 6px;
  }
  .controls button {
    display: grid;
    place-items: center;
    padding: 6px;
    background: rgb(0 0 0 / 60%);
    color: #fff;
  }
  .badge {
    position: absolute;
    left: 8px;
    top: 8px;
    padding: 2px 8px;
    border-radius: 4px;
    background: var(--live-badge-background, #d21f3c);
    font-weight: 600;
    font-size: 12px;
  }
  .stats {
    position: absolute;
    left: 8px;
    bottom: 8px;
    padding: 4px 8px;
    border-radius: 4px;
    background: rgb(0 0 0 / 60%);
    font: 11px/1.4 ui-monospace, monospace;
    white-space: pre;
  }
  .spinner {
    width: 28px;
    height: 28px;
    border: 3px solid rgb(255 255 255 / 30%);
    border-top-color: #fff;
    border-radius: 50%;
    animation: spin 1s linear infinite;
  }
  @keyframes spin {
    to {
      transform: rotate(1turn);
    }
  }
  @media (prefers-reduced-motion) {
    .spinner {
      animation: none;
    }
  }
`;
