import { css } from "./static-css.ts";

/** What both elements' controls look like, and the visually hidden live region. */
export const sharedStyles = css`
  :host([hidden]) {
    display: none;
  }
  button {
    font: inherit;
    color: var(--live-button-color, #111);
    background: var(--live-accent, #fff);
    border: 0;
    border-radius: 999px;
    cursor: pointer;
  }
  button:focus-visible {
    outline: 3px solid var(--live-focus-ring, #4c9ffe);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
