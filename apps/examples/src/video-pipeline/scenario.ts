import { type Backend, MetadataStore } from "@metaxy/core";
import { formatReport, type StepReport } from "../lib/run-step.js";
import { videoFeatures } from "./features.js";
import { FakeGpuModels, runVideoPipeline, syntheticVideos } from "./pipeline.js";

export interface ScenarioRun {
  title: string;
  steps: StepReport[];
  calls: FakeGpuModels["calls"];
}

/**
 * The main job's story, on any backend: first run computes everything; a rerun computes nothing;
 * bumping the audio code version recomputes transcripts and captions and no faces; changing 10%
 * of the audio recomputes exactly those transcripts and captions.
 */
export async function videoScenario(
  backend: () => Backend,
  options: { videos?: number; msPerRecord?: number; log?: (s: string) => void } = {},
): Promise<ScenarioRun[]> {
  const n = options.videos ?? 200;
  const videos = syntheticVideos(n);
  const runs: ScenarioRun[] = [];
  const pass = async (title: string, audioCodeVersion: string, input = videos) => {
    const features = videoFeatures({ audioCodeVersion });
    const models = new FakeGpuModels(options.msPerRecord ?? 1);
    await using store = await MetadataStore.open(backend(), { graph: features.graph });
    const steps = await runVideoPipeline(store, features, input, models);
    runs.push({ title, steps, calls: { ...models.calls } });
    options.log?.(formatReport(title, steps) + "\n");
  };

  await pass("1. first run: everything is new", "1");
  await pass("2. rerun, nothing changed", "1");
  await pass("3. audio extraction code bumped (audio v2)", "2");
  const changed = videos.map((v, i) => (i % 10 === 0 ? { ...v, audioHash: `${v.audioHash}-remastered` } : v));
  await pass(
    `4. new audio for ${changed.filter((_, i) => i % 10 === 0).length} of ${n} videos`,
    "2",
    changed,
  );
  return runs;
}
