/**
 * @module server/resume/adoption-deadline
 * What bounds a call picked up after its process died
 * (docs/RESUMPTION.md, "A call whose gateway died"): the server's request deadline, counted
 * like any request's from the last sign of life (each message of the call renews it), or the
 * server's close. Held by a timer of its own: an
 * `AbortSignal.timeout` that only a composite signal refers to can be collected before it fires,
 * and an upstream whose resumed stream went quiet then held the client's stream open for good.
 */

/** The signal the adopted call runs under, and the sign of life that renews its deadline. */
export interface AdoptionDeadline {
  readonly signal: AbortSignal;
  keepAlive(): void;
}

export function adoptionDeadline(timeoutMs: number, closing: AbortSignal): AdoptionDeadline {
  const controller = new AbortController();
  const end = (reason: string): void => {
    clearTimeout(timer);
    closing.removeEventListener('abort', onClose);
    if (!controller.signal.aborted) controller.abort(new Error(reason));
  };
  const onClose = (): void => end('the server is closing');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    if (timeoutMs <= 0 || controller.signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(() => end(`no sign of life for ${timeoutMs} ms (the request timeout)`), timeoutMs);
  };
  if (closing.aborted) end('the server is closing');
  else closing.addEventListener('abort', onClose, { once: true });
  arm();
  return { signal: controller.signal, keepAlive: arm };
}
