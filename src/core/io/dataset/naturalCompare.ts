// Moved to src/core/naturalSort.ts (issue #13 item 7: one name order for samples, layers and
// exports); kept here so the dataset readers' imports stay as they are.
export { naturalCompare } from '../../naturalSort';
