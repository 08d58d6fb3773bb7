import { css } from "./static-css.ts";

export const broadcasterStyles = css`
  :host {
    display: block;
    position: relative;
    background: var(--live-background, #111);
    color: var(--live-color, #fff);
    font: var(--live-font, 14px/1.4 system-ui, sans-serif);
    border-radius: var(--live-radius, 8px);
    overflow: hidden;
  }
  .preview {
    position: relative;
    aspect-ratio: var(--live-aspect-ratio, 16 / 9);
    background: #000;
  }
  video {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: var(--live-object-fit, cover);
  }
  video.mirrored {
    transform: scaleX(-1);
  }
  .badge {
    position: absolute;
    left: 8px;
    top: 8px;
    display: flex;
    gap: 8px;
    align-items: center;
  }
  .live {
    padding: 2px 8px;
    border-radius: 4px;
    background: var(--live-badge-background, #d21f3c);
    font-weight: 600;
    font-size: 12px;
  }
  .count {
    padding: 2px 8px;
    border-radius: 4px;
    background: rgb(0 0 0 / 60%);
    font-size: 12px;
  }
  .message {
    position: absolute;
    inset: 0;
    display: flex;
    flex-direction: column;
    gap: 12px;
    align-items: center;
    justify-content: center;
    padding: 16px;
    text-align: center;
    background: var(--live-overlay-background, rgb(0 0 0 / 55%));
  }
  .notice {
    padding: 6px 10px;
    background: var(--live-notice-background, #7a5c00);
    font-size: 13px;
  }
  .controls {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
    padding: 8px;
  }
  button {
    padding: 6px 14px;
  }
  button.primary {
    background: var(--live-primary, #d21f3c);
    color: #fff;
  }
  button[aria-pressed="true"] {
    background: var(--live-pressed, #555);
    color: #fff;
  }
  details {
    padding: 0 8px 8px;
    font-size: 13px;
  }
  ul {
    margin: 4px 0 0;
    padding-left: 18px;
  }
`;
