/** A held call's arguments, as an operator approves them. */

/** Past this many characters a value is folded (a click shows it whole); nothing is ever cut. */
const FOLD_AT = 160;

/**
 * A call's arguments as an operator approves them: every one, shortest first (as the user is
 * asked, docs/POLICY.md), long values folded behind a summary that says how long they are.
 */
export function ArgumentsView({ json }: { json: string }) {
  let entries: [string, string][];
  try {
    const parsed = JSON.parse(json) as unknown;
    entries =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? Object.entries(parsed).map(([name, value]) => [name, JSON.stringify(value)])
        : [['(arguments)', json]];
  } catch {
    entries = [['(arguments)', json]];
  }
  entries.sort((a, b) => a[1].length - b[1].length);
  if (entries.length === 0) return <p class="arguments">No arguments.</p>;
  return (
    <dl class="arguments">
      {entries.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>
            {value.length <= FOLD_AT ? (
              <code>{value}</code>
            ) : (
              <details>
                <summary>
                  <code>{value.slice(0, FOLD_AT)}</code> ({value.length} characters: show all)
                </summary>
                <pre>{value}</pre>
              </details>
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}
