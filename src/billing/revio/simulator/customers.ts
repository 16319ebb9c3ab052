import type { SimRequest, SimResponse } from '../../../carriers/simulator-kit/definition.ts';
import type { RevioBook } from './book.ts';
import { notFound, schemaRefusal } from './errors.ts';
import { idText, pageOf, pagingSchema } from './wire.ts';

export const listCustomers = (book: RevioBook, request: SimRequest): SimResponse => {
  const query = pagingSchema.safeParse(Object.fromEntries(request.query));
  if (!query.success) return schemaRefusal(query.error);
  return { status: 200, body: { ...pageOf(book.customers(), query.data), ...query.data } };
};

export const getCustomer = (book: RevioBook, request: SimRequest): SimResponse => {
  const id = idText.safeParse(request.params.id);
  const customer = id.success ? book.customer(id.data) : undefined;
  return customer === undefined
    ? notFound(`Customer ${request.params.id} does not exist`)
    : { status: 200, body: customer };
};
