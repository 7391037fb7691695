import { useEffect, useState } from 'react';
import { primaryValue, taskFiguresText } from '../core/metrics/taskMetrics';
import { OUTPUT_TASK_LABEL, OUTPUT_TASKS, type OutputTask, type TaskSpec } from '../core/metrics/tasks';
import { loadTaskSpecs, setLabels, setOutputTask } from '../state/actions';
import { useApp } from '../state/store';

/**
 * What each output is for and how it scores in its task's terms (issue #11): the task qbench told
 * from the output's shape and values, changeable here (a text-detection map scored by IoU, logits
 * by top-1...), and the figures of the latest evaluation. A classifier also takes a labels file for
 * its accuracy.
 */
export function OutputTasks() {
  const calibrated = useApp((s) => s.calibration !== null);
  const evaluation = useApp((s) => s.outputEvaluation);
  const [specs, setSpecs] = useState<Readonly<Record<string, TaskSpec>> | null>(null);
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
    </section>
  );
}
