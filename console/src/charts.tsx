/** Requests, errors, latency and live sessions over the last hour, from the gateway's own metrics (uPlot). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { MetricPoint } from './api.js';

interface ChartSpec {
  title: string;
  series: { label: string; value: (point: MetricPoint) => number | null; stroke: string }[];
}

const CHARTS: ChartSpec[] = [
  { title: 'Requests per second', series: [{ label: 'requests/s', value: (p) => p.requestsPerSecond, stroke: '#1f5fbf' }] },
  { title: 'Errors per second', series: [{ label: 'errors/s', value: (p) => p.errorsPerSecond, stroke: '#b3261e' }] },
  {
    title: 'Latency (ms)',
    series: [
      { label: 'p50', value: (p) => (p.p50 === null ? null : p.p50 * 1000), stroke: '#1f7a3a' },
      { label: 'p99', value: (p) => (p.p99 === null ? null : p.p99 * 1000), stroke: '#8a4b00' },
    ],
  },
  { title: 'Live sessions', series: [{ label: 'sessions', value: (p) => p.liveSessions, stroke: '#5b3fa0' }] },
];

function Chart({ spec, points }: { spec: ChartSpec; points: MetricPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = (): uPlot.AlignedData => [points.map((p) => p.at / 1000), ...spec.series.map((s) => points.map(s.value))];
  useEffect(() => {
    const element = box.current!;
    plot.current = new uPlot(
      {
        width: Math.max(element.clientWidth, 280),
        height: 180,
        // From the first point (the gateway's start) while it is younger than an hour, then the last hour;
        // never less than a minute wide.
        scales: { x: { time: true, range: (_plot, min, max) => [Math.min(Math.max(max - 3600, min), max - 60), max] } },
        series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { size: 60 }],
      },
      data(),
      element,
    );
    const resize = (): void => plot.current?.setSize({ width: Math.max(element.clientWidth, 280), height: 180 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => plot.current?.setData(data()), [points]);
  return (
    <figure>
      <figcaption>{spec.title}</figcaption>
      <div ref={box} role="img" aria-label={`${spec.title} over the last hour`} />
    </figure>
  );
}

export function Charts({ points }: { points: MetricPoint[] }) {
  return (
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">The last hour</h2>
      <p>
        One point every 10 seconds, from this replica's metrics ({points.length} so far), since{' '}
        {points.length > 0 && points.length < 360 ? 'the gateway started' : 'an hour ago'}. Latency leaves out time spent waiting for a
        person to approve a call.
      </p>
      <div class="charts">
        {CHARTS.map((spec) => (
          <Chart key={spec.title} spec={spec} points={points} />
        ))}
      </div>
    </section>
  );
}
