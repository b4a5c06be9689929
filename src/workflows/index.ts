// The worker's workflowsPath: every workflow the worker runs is exported here.
export { trainingPipeline, trainingPipelineName, progressQuery } from './training-pipeline';
