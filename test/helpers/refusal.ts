/** The JSON-RPC error a call (an SDK client's promise) was refused with; throws when it was not refused. */
export async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = (await call.then(
    () => undefined,
    (failure: unknown) => failure,
  )) as { code: number; message: string } | undefined;
  if (!error) throw new Error('the call was not refused');
  return error;
}
