// A small SVG line chart: one line per score across experiments, oldest first.

export interface Series {
  name: string;
  points: (number | null)[];
}

const COLORS = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#ec4899", "#14b8a6"];

export function LineChart({
  labels,
  series,
  height = 180,
}: {
  labels: string[];
  series: Series[];
  height?: number;
}) {
  const width = 640;
  const pad = { l: 36, r: 12, t: 10, b: 22 };
  const n = labels.length;
  const x = (i: number) => pad.l + (n <= 1 ? 0.5 : i / (n - 1)) * (width - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - Math.max(0, Math.min(1, v))) * (height - pad.t - pad.b);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Scores across experiments">
        {[0, 0.5, 1].map((g) => (
          <g key={g}>
            <line x1={pad.l} x2={width - pad.r} y1={y(g)} y2={y(g)} className="grid" />
            <text x={4} y={y(g) + 4} className="axis">
              {g * 100}%
            </text>
          </g>
        ))}
        {series.map((s, si) => {
          const color = COLORS[si % COLORS.length];
          const pts = s.points
            .map((v, i) => (v === null ? null : `${x(i)},${y(v)}`))
            .filter(Boolean) as string[];
          return (
            <g key={s.name} data-series={s.name}>
              <polyline points={pts.join(" ")} fill="none" stroke={color} strokeWidth={2} />
              {s.points.map((v, i) =>
                v === null ? null : (
                  <circle key={i} cx={x(i)} cy={y(v)} r={3} fill={color}>
                    <title>{`${s.name} · ${labels[i]}: ${(v * 100).toFixed(1)}%`}</title>
                  </circle>
                ),
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {series.map((s, si) => (
          <span key={s.name}>
            <i style={{ background: COLORS[si % COLORS.length] }} /> {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
