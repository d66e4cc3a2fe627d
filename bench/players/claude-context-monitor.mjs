#!/usr/bin/env node
// Bench player: a context monitor. The file name matches the default pattern `claude-.*-monitor`.
import { runAutonomous } from './lib/autonomous.mjs';

await runAutonomous();
