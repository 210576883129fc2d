/** A time-series chart with uPlot (canvas), sized to its container. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A colour class index (0..3), mapped to colours below. */
  color: number;
  bars?: boolean;
}

const COLORS = ['#2f6fdb', '#d9434f', '#1f9d6a', '#b7791f'];

/** A chart of `series` over the times `x` (epoch ms). */
export function Chart(props: { title: string; x: number[]; series: ChartSeries[]; unit?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(240, el.clientWidth);
    const unit = props.unit ?? '';
    const opts: uPlot.Options = {
      width,
      height: 160,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((t) => `${Number(t.toFixed(2))}${unit}`) }],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: COLORS[s.color % COLORS.length] ?? '#333',
          width: 1.5,
          // Points too: a window with one busy bucket still shows its latency.
          points: { show: !s.bars, size: 5 },
          ...(s.bars
            ? {
                fill: `${COLORS[s.color % COLORS.length] ?? '#333'}33`,
                paths: uPlot.paths.bars?.({ size: [0.8, 40] }),
              }
            : {}),
        })),
      ],
    };
    const data: uPlot.AlignedData = [props.x.map((t) => t / 1000), ...props.series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    return () => plot.destroy();
  }, [props.x, props.series, props.unit]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}
