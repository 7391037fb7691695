/** What the hover tooltip says about a node: its name, op and figures (GraphPanel knows them). */
export interface NodeDetails {
  readonly title: string;
  readonly subtitle: string;
  readonly rows: readonly (readonly [label: string, value: string])[];
}

/** The tooltip itself; GraphView positions it (a style change per pointer move, no render). */
export function GraphTooltip({ details }: { details: NodeDetails }) {
  return (
    <>
      <div className="qg-tip-title">{details.title}</div>
      <div className="qg-tip-sub">{details.subtitle}</div>
      {details.rows.length > 0 && (
        <dl className="qg-tip-rows">
          {details.rows.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
    </>
  );
}
