/** Models and pictures for the app tests, made on the spot (nothing is downloaded). */
import { join } from "node:path";
import * as cl from "../../lib/mod.ts";

/**
 * Save an untrained (seeded) copy of the course's small convnet with Fashion-MNIST's class names:
 * enough for the classify app's top-5 and Grad-CAM to have something to show.
 */
export async function saveTinyClassifier(dir: string): Promise<string> {
  cl.seed(7);
  const model = cl.models.mnistConvnet();
  model.setUserDefinedMetadata({
    classNames: cl.datasets.FASHION_MNIST_CLASSES,
    inputRange: [0, 1],
    description: "An untrained test convnet",
    invertLightBackground: true,
  });
  await cl.saveModel(model, dir);
  model.dispose();
  return dir;
}

/** A PNG of the lib's test card (edges, gradients, text). */
export async function testCardPng(): Promise<Uint8Array<ArrayBuffer>> {
  const card = await cl.image.testCard();
  const png = await cl.image.encodePng(card);
  card.dispose();
  return new Uint8Array(png);
}

/** The same picture as a JPEG, written to `dir`. */
export async function writeTestPictures(dir: string) {
  const card = await cl.image.testCard();
  const files = {
    png: join(dir, "card.png"),
    jpeg: join(dir, "card.jpg"),
    text: join(dir, "notes.txt"),
  };
  await cl.image.writeImage(files.png, card);
  await cl.image.writeImage(files.jpeg, card);
  await Deno.writeTextFile(files.text, "These are my notes, not a picture.\n");
  card.dispose();
  return files;
}
