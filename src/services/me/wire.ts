/** `emitter/me/` success body: the connection id and its links (omitted when there are none). */
export interface MeResponse {
  readonly status: 200;
  readonly id: string;
  readonly links?: Record<string, string>;
}
