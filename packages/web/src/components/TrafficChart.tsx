/**
 * A line chart in plain SVG: time on x, one or more series on y. Small on purpose: a chart
 * library would add a few hundred KB to the pages that draw one or two lines.
 */
import dayjs from 'dayjs';

export interface Series {
  name: string;
  color: string;
  points: { t: number; v: number }[];
}

interface Props {
  series: Series[];
  /** Formats y values for the axis and the tooltips. */
  format: (v: number) => string;
  height?: number;
  /** Accessible name of the chart. */
  label: string;
}

const W = 960;
const PAD = { left: 64, right: 12, top: 12, bottom: 24 };

export function TrafficChart({ series, format, height = 200, label }: Props) {
  const all = series.flatMap((s) => s.points);
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const vMax = Math.max(1, ...all.map((p) => p.v));
  const x = (t: number) => PAD.left + (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (v: number) => height - PAD.bottom - (v / vMax) * (height - PAD.top - PAD.bottom);
  const ticks = [0, 0.5, 1].map((f) => f * vMax);
  const timeTicks = all.length ? [t0, (t0 + t1) / 2, t1] : [];
  const spanDays = (t1 - t0) / 86_400_000;
  const timeFormat = spanDays > 1 ? 'MM-DD HH:mm' : 'HH:mm';

  return (
    <svg role="img" aria-label={label} viewBox={`0 0 ${W} ${height}`} style={{ width: '100%', height: 'auto' }}>
      {ticks.map((v) => (
        <g key={v}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} stroke="#f0f0f0" />
          <text x={PAD.left - 6} y={y(v) + 4} fontSize={10} textAnchor="end" fill="#8c8c8c">
            {format(v)}
          </text>
        </g>
      ))}
      {timeTicks.map((t, i) => (
        <text key={i} x={x(t)} y={height - 6} fontSize={10} textAnchor={i === 0 ? 'start' : i === 2 ? 'end' : 'middle'} fill="#8c8c8c">
          {dayjs(t).format(timeFormat)}
        </text>
      ))}
      {series.map((s) => (
        <g key={s.name}>
          <polyline fill="none" stroke={s.color} strokeWidth={2} points={s.points.map((p) => `${x(p.t)},${y(p.v)}`).join(' ')} />
          {s.points.map((p) => (
            <circle key={p.t} cx={x(p.t)} cy={y(p.v)} r={2.5} fill={s.color}>
              <title>{`${s.name} ${dayjs(p.t).format('HH:mm')}: ${format(p.v)}`}</title>
            </circle>
          ))}
        </g>
      ))}
      <g>
        {series.map((s, i) => (
          <g key={s.name} transform={`translate(${PAD.left + 8 + i * 120}, ${PAD.top + 4})`}>
            <rect width={10} height={3} y={3} fill={s.color} />
            <text x={14} y={9} fontSize={10} fill="#595959">
              {s.name}
            </text>
          </g>
        ))}
      </g>
    </svg>
  );
}
