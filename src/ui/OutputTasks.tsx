import { useEffect, useMemo, useState } from 'react';
import { labelsFromFolders } from '../core/metrics/outputScoring';
import { primaryValue, taskFiguresText } from '../core/metrics/taskMetrics';
import { OUTPUT_TASK_LABEL, OUTPUT_TASKS, type OutputTask, type TaskSpec } from '../core/metrics/tasks';
import { loadTaskSpecs, setLabels, setLabelsFromFolders, setOutputTask } from '../state/actions';
import { loadClassNames } from '../state/classNameActions';
import { useApp } from '../state/store';

/**
 * What each output is for and how it scores in its task's terms (issue #11): the task qbench told
 * from the output's shape and values, changeable here (a text-detection map scored by IoU, logits
 * by top-1...), and the figures of the latest evaluation. A classifier also takes labels for its
 * accuracy (a labels file, or the class folders the samples came in), and a classifier or a
 * detector a class-names file for the outputs viewer.
 */
export function OutputTasks() {
  const calibrated = useApp((s) => s.calibration !== null);
  const evaluation = useApp((s) => s.outputEvaluation);
  const [specs, setSpecs] = useState<Readonly<Record<string, TaskSpec>> | null>(null);
  const sampleNames = useApp((s) => s.dataset?.sampleNames);
  const foldersAreLabels = useApp((s) => s.sources.labels?.folders === true);
  const classNames = useApp((s) => s.classNames);
  // Samples that sit in class folders (a dropped or picked folder of them): their folders can be the labels.
  const classFolders = useMemo(() => (sampleNames ? new Set(labelsFromFolders(sampleNames)?.values() ?? []).size : 0), [sampleNames]);
  useEffect(() => {
    if (!calibrated) return setSpecs(null);
    let live = true;
    void loadTaskSpecs().then((next) => live && setSpecs(next));
    return () => {
      live = false;
    };
  }, [calibrated]);
  if (!specs) return null;
  const outputs = Object.keys(specs);
  const hasClassifier = outputs.some((o) => specs[o].task === 'classifier');
  const hasClasses = hasClassifier || outputs.some((o) => specs[o].task === 'detector');
  const change = async (output: string, task: OutputTask) => {
    const next = await setOutputTask(output, task);
    if (next) setSpecs(next);
  };
  return (
    <section className="output-tasks" data-testid="output-tasks">
      <h3 title="Each output is scored in its task's terms as well as by cosine and SQNR; the task is told from the output's shape and values. Change it when it is wrong.">Outputs and their tasks</h3>
      <table>
        <tbody>
          {outputs.map((output) => {
            const figures = evaluation?.tasks?.[output];
            const cos = evaluation?.perOutput[output]?.cos;
            return (
              <tr key={output} data-testid="output-task-row" data-output={output}>
                <td className="name" title={output}>{output}</td>
                <td>
                  <select value={specs[output].task} onChange={(e) => void change(output, e.target.value as OutputTask)} data-testid="output-task-select" aria-label={`Task of output ${output}`}>
                    {OUTPUT_TASKS.map((t) => <option key={t} value={t}>{OUTPUT_TASK_LABEL[t]}</option>)}
                  </select>
                </td>
                <td className={`figures${figures && primaryValue(figures) < 0.9 ? ' failing' : ''}`} data-testid="output-task-figures">
                  {figures ? taskFiguresText(figures) : cos !== undefined ? `cos ${cos.toFixed(6)}` : '—'}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {hasClassifier && (
        <label className="labels-file" title='A text file with "<sample name> <class index>" per line (or the class index alone, in the samples&apos; order): the classifier then shows its accuracy, float and quantized.'>
          Labels for accuracy <input type="file" accept=".txt,.csv,.tsv" onChange={(e) => void setLabels(e.target.files?.[0] ?? null)} data-testid="labels-file" />
        </label>
      )}
      {/* enabled even when the folders are the labels: labels are kept by sample name, so new data needs them read again */}
      {hasClassifier && classFolders > 0 && (
        <p className="labels-folders">
          <button className="btn small" onClick={() => void setLabelsFromFolders()} data-testid="folder-labels"
            title="Each sample's class is the folder it sits in (data/<class>/<image>): folders named by a class index give that index, other names are sorted and numbered from 0 (as qbench --labels folders)">
            Use folder names as labels
          </button>
          <span className="muted" data-testid="folder-labels-note">{foldersAreLabels ? `the samples' ${classFolders} class folders are the labels` : `the samples sit in ${classFolders} class folders`}</span>
        </p>
      )}
      {hasClasses && (
        <label className="labels-file" title='One class name per line, line k naming class k (ImageNet&apos;s synset_words.txt, coco.names), or JSON: ["name", ...] or {"<index>": "name" or [id, "name"]}. The Outputs tab shows the names beside the class indices.'>
          Class names <input type="file" accept=".txt,.names,.json" onChange={(e) => void loadClassNames(e.target.files?.[0] ?? null)} data-testid="class-names-file" />
          {classNames && <span className="muted" data-testid="class-names-note"> {classNames.names.length} from {classNames.file}</span>}
        </label>
      )}
    </section>
  );
}
